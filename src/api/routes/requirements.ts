/** Requirements: which certificates satisfy each, and for how long (create, read, list, change, delete). */
import { z } from 'zod';
import { requirementRuleSchema } from '../../domain/requirement.ts';
import { AppError } from '../../errors.ts';
import type { Requirement, Store } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { idParams, knownProviderRules } from '../schemas.ts';

const TAG = 'requirements';

export const requirementSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    // The rule as stored: the domain's own schema, which validated it on the way in (defaults filled in).
    rule: requirementRuleSchema,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .describe('A requirement: which certificates satisfy it and for how long');

const nameSchema = z.string().trim().min(1).max(200).describe('Unique within the tenant, e.g. "Safety training"');
const descriptionSchema = z.string().max(2000).nullable().describe('Free text for people');

const createBody = z.strictObject({
  name: nameSchema,
  description: descriptionSchema.optional(),
  rule: knownProviderRules.rule,
});

const patchBody = z
  .strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    rule: knownProviderRules.rule.optional().describe('Replaces the whole rule'),
  })
  .refine((b) => b.name !== undefined || b.description !== undefined || b.rule !== undefined, {
    message: 'give at least one of name, description, rule',
  });

export function publicRequirement(r: Requirement): z.output<typeof requirementSchema> {
  const { tenant_id: _tenant, ...rest } = r;
  return rest;
}

/** The tenant's requirement, or AppError('not_found'). */
export async function requirementOr404(store: Store, tenantId: string, id: string): Promise<Requirement> {
  const found = await store.requirements.getRequirement(tenantId, id);
  if (found === null) throw new AppError('not_found', `requirement ${id} not found`);
  return found;
}

export function registerRequirementRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;
  const requirementOf = (tenantId: string, id: string) => requirementOr404(store, tenantId, id);

  table.add({
    method: 'GET',
    url: '/v1/requirements',
    operationId: 'listRequirements',
    summary: "The tenant's requirements, by name",
    tag: TAG,
    access: 'read',
    responses: { 200: { description: 'Every requirement', schema: z.object({ items: z.array(requirementSchema) }) } },
    async handler({ caller }) {
      return { items: (await store.requirements.listRequirements(caller!.tenantId)).map(publicRequirement) };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/requirements/:id',
    operationId: 'getRequirement',
    summary: 'One requirement',
    tag: TAG,
    access: 'read',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The requirement', schema: requirementSchema } },
    async handler({ caller, params }) {
      return publicRequirement(await requirementOf(caller!.tenantId, params.id));
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/requirements',
    operationId: 'createRequirement',
    summary: 'Create a requirement',
    description:
      'A rule says which certificates satisfy it (`any_of` matchers, each with external_id and/or code, optionally ' +
      'narrowed by provider, source, type), how long a certificate without an end date counts ' +
      '(`valid_months_without_end`, null: for ever) and how many days before the end it counts as expiring (`warn_days`).',
    tag: TAG,
    access: 'admin',
    body: createBody,
    errors: [409],
    responses: { 201: { description: 'Created', schema: requirementSchema } },
    async handler({ caller, body, reply }) {
      const created = await store.requirements.createRequirement(
        caller!.tenantId,
        { name: body.name, description: body.description ?? null, rule: body.rule },
        { now: deps.now() },
      );
      reply.code(201);
      return publicRequirement(created);
    },
  });

  table.add({
    method: 'PATCH',
    url: '/v1/requirements/:id',
    operationId: 'updateRequirement',
    summary: 'Change a requirement (fields left out stay as they are; a rule given replaces the whole rule)',
    tag: TAG,
    access: 'admin',
    params: idParams,
    body: patchBody,
    errors: [404, 409],
    responses: { 200: { description: 'The requirement as it is now', schema: requirementSchema } },
    async handler({ caller, params, body }) {
      const patch = {
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.rule === undefined ? {} : { rule: body.rule }),
      };
      return publicRequirement(await store.requirements.updateRequirement(caller!.tenantId, params.id, patch, { now: deps.now() }));
    },
  });

  table.add({
    method: 'DELETE',
    url: '/v1/requirements/:id',
    operationId: 'deleteRequirement',
    summary: 'Delete a requirement',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404],
    responses: { 204: { description: 'Deleted' } },
    async handler({ caller, params, reply }) {
      await store.requirements.deleteRequirement(caller!.tenantId, params.id);
      return reply.code(204).send();
    },
  });
}
