/** Requirements (CRUD), who complies with each, and the expiring report; the lists also as CSV. */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { createComplianceService, type ComplianceRow, type ExpiringItem } from '../../compliance/index.ts';
import { ACHIEVEMENT_TYPES, type Certificate } from '../../domain/certificate.ts';
import { COMPLIANCE_STATES, requirementRuleSchema } from '../../domain/requirement.ts';
import { AppError } from '../../errors.ts';
import { csvRecord } from '../../csv.ts';
import type { Requirement } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import {
  asOfQuery,
  certificateSchema,
  cursorQuery,
  formatQuery,
  idParams,
  idSchema,
  intQuery,
  limitQuery,
  listQuery,
  providerIdInput,
  providerIdOutput,
  wantsCsv,
} from '../schemas.ts';

const TAG = 'requirements';
const DEFAULT_LIMIT = 100;

const ruleOutputSchema = z.object({
  any_of: z.array(
    z.object({
      provider: providerIdOutput.optional(),
      source: z.string().optional(),
      type: z.enum(ACHIEVEMENT_TYPES).optional(),
      external_id: z.string().optional(),
      code: z.string().optional(),
    }),
  ),
  valid_months_without_end: z.number().nullable(),
  warn_days: z.number(),
});

export const requirementSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    rule: ruleOutputSchema,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .describe('A requirement: which certificates satisfy it and for how long');

const nameSchema = z.string().trim().min(1).max(200).describe('Unique within the tenant, e.g. "Safety training"');
const descriptionSchema = z.string().max(2000).nullable().describe('Free text for people');

const createBody = z.strictObject({
  name: nameSchema,
  description: descriptionSchema.optional(),
  rule: requirementRuleSchema,
});

const patchBody = z
  .strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    rule: requirementRuleSchema.optional().describe('Replaces the whole rule'),
  })
  .refine((b) => b.name !== undefined || b.description !== undefined || b.rule !== undefined, {
    message: 'give at least one of name, description, rule',
  });

const personFields = {
  person_id: z.string(),
  name: z.string().nullable().describe("The person's display name"),
  email: z.string().nullable().describe('The primary email (the first one recorded)'),
};

const complianceItemSchema = z.object({
  ...personFields,
  state: z.enum(COMPLIANCE_STATES),
  valid_until: z.string().nullable().describe('The last day the proving certificate counts (null: no end, or missing)'),
  certificate: z
    .object({
      id: z.string(),
      source: z.string(),
      achievement: certificateSchema.shape.achievement,
      issued_at: z.string().nullable(),
      valid_until: z.string().nullable().describe("The certificate's own end date"),
    })
    .nullable()
    .describe('The certificate that proves it; null when missing'),
});

const summarySchema = z.object({
  compliant: z.number(),
  expiring: z.number(),
  expired: z.number(),
  missing: z.number(),
  total: z.number().describe('Every person counted (after q, before state)'),
});

const complianceQuery = z.object({
  state: listQuery(COMPLIANCE_STATES, 'Only people in these states (repeat or comma-separate)'),
  q: z.string().trim().max(200).optional().describe('Only people whose name or an email contains this'),
  as_of: asOfQuery,
  limit: limitQuery,
  cursor: cursorQuery,
  format: formatQuery,
});

const expiringQuery = z.object({
  days: intQuery({ min: 1, max: 3650, description: 'The window in days from today (default 30)' }).optional(),
  requirement: idSchema.optional().describe('Only certificates satisfying this requirement (its fallback end applies)'),
  source: z.string().min(1).max(100).optional().describe('Only this source (its id/slug)'),
  provider: providerIdInput.optional(),
  limit: limitQuery,
  cursor: cursorQuery,
  format: formatQuery,
});

const expiringItemSchema = z.object({
  valid_until: z.string().describe('The last day it counts: valid_until, else start + the requirement fallback'),
  days_left: z.number().describe('Days from today to valid_until (0: ends today)'),
  person: z.object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable() }).nullable(),
  certificate: certificateSchema,
});

const COMPLIANCE_CSV_HEADER = [
  'person_id',
  'name',
  'email',
  'state',
  'valid_until',
  'certificate_id',
  'source',
  'achievement_code',
  'achievement_title',
  'issued_at',
] as const;

const EXPIRING_CSV_HEADER = [
  'valid_until',
  'days_left',
  'person_id',
  'name',
  'email',
  'certificate_id',
  'source',
  'provider',
  'achievement_type',
  'achievement_external_id',
  'achievement_code',
  'achievement_title',
  'issued_at',
] as const;

function publicRequirement(r: Requirement): z.output<typeof requirementSchema> {
  const { tenant_id: _tenant, ...rest } = r;
  return rest;
}

function complianceItem(row: ComplianceRow): z.output<typeof complianceItemSchema> {
  const c = row.certificate;
  return {
    person_id: row.person.id,
    name: row.person.name,
    email: row.person.email,
    state: row.state,
    valid_until: row.valid_until,
    certificate:
      c === null ? null : { id: c.id, source: c.source, achievement: c.achievement, issued_at: c.issued_at, valid_until: c.valid_until },
  };
}

function complianceCsvRecord(row: ComplianceRow): string {
  const c = row.certificate;
  return csvRecord([
    row.person.id,
    row.person.name,
    row.person.email,
    row.state,
    row.valid_until,
    c?.id,
    c?.source,
    c?.achievement.code,
    c?.achievement.title,
    c?.issued_at,
  ]);
}

function expiringCsvRecord(item: ExpiringItem): string {
  const c: Certificate = item.certificate;
  return csvRecord([
    item.valid_until,
    item.days_left,
    item.person?.id,
    item.person?.name,
    item.person?.email,
    c.id,
    c.source,
    c.provider,
    c.achievement.type,
    c.achievement.external_id,
    c.achievement.code,
    c.achievement.title,
    c.issued_at,
  ]);
}

/** A file name safe in a header: lower-case letters, digits and dashes only. */
function fileSlug(text: string): string {
  return (
    text
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'requirement'
  );
}

/**
 * Streams a CSV document: the header, then each batch's records as it is read. The first batch is read before
 * anything is sent, so that a failure to read at all still answers with an error status.
 */
async function sendCsv<T>(
  reply: FastifyReply,
  filename: string,
  header: readonly string[],
  batches: AsyncIterable<T[]>,
  record: (item: T) => string,
) {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* lines(): AsyncGenerator<string> {
    yield csvRecord(header);
    for (let next = first; next.done !== true; next = await iterator.next()) yield next.value.map(record).join('');
  }
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(lines()));
}

export function registerRequirementRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;
  const compliance = createComplianceService({ store, now: deps.now });

  async function requirementOf(tenantId: string, id: string): Promise<Requirement> {
    const found = await store.requirements.getRequirement(tenantId, id);
    if (found === null) throw new AppError('not_found', `requirement ${id} not found`);
    return found;
  }

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

  table.add({
    method: 'GET',
    url: '/v1/requirements/:id/compliance',
    operationId: 'getRequirementCompliance',
    summary: "Every person's standing against a requirement: compliant, expiring, expired or missing",
    description:
      'People merged into another are not listed. JSON is cursor-paginated in person-id order with a summary of the ' +
      'whole table; CSV (`Accept: text/csv` or `?format=csv`) is the whole table after the filters. With `as_of`, ' +
      'the standing then, from the stored certificate versions (people created later are left out).',
    tag: TAG,
    access: 'read',
    params: idParams,
    query: complianceQuery,
    errors: [404],
    responses: {
      200: {
        description: 'The compliance table',
        schema: z.object({
          requirement: z.object({ id: z.string(), name: z.string() }),
          as_of: z.string().describe('The instant the states are computed for'),
          summary: summarySchema,
          items: z.array(complianceItemSchema),
          next_cursor: z.string().nullable(),
        }),
        alternatives: { 'text/csv': `One row per person: ${COMPLIANCE_CSV_HEADER.join(', ')}` },
      },
    },
    async handler({ caller, params, query, request, reply }) {
      const tenantId = caller!.tenantId;
      const requirement = await requirementOf(tenantId, params.id);
      const filters = {
        ...(query.as_of === undefined ? {} : { asOf: query.as_of }),
        ...(query.state === undefined ? {} : { states: query.state }),
        ...(query.q === undefined ? {} : { q: query.q }),
      };
      if (wantsCsv(request)) {
        const { at, batches } = compliance.complianceRows(tenantId, requirement, filters);
        const filename = `compliance-${fileSlug(requirement.name)}-${at.slice(0, 10)}.csv`;
        return sendCsv(reply, filename, COMPLIANCE_CSV_HEADER, batches, complianceCsvRecord);
      }
      const page = await compliance.compliancePage(tenantId, requirement, {
        ...filters,
        limit: query.limit ?? DEFAULT_LIMIT,
        cursor: query.cursor ?? null,
      });
      return {
        requirement: { id: requirement.id, name: requirement.name },
        as_of: page.at,
        summary: page.summary,
        items: page.items.map(complianceItem),
        next_cursor: page.next_cursor,
      };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/reports/expiring',
    operationId: 'getExpiringReport',
    summary: 'Certificates that count today and end within the next N days, soonest first',
    description:
      'Awarded, started certificates whose last day (valid_until; for a `requirement`, else start + its ' +
      'valid_months_without_end) is from today to today + days. Without a requirement only certificates with an ' +
      'end date are listed. JSON is cursor-paginated; CSV is the whole list.',
    tag: TAG,
    access: 'read',
    query: expiringQuery,
    errors: [404],
    responses: {
      200: {
        description: 'The report',
        schema: z.object({
          from: z.string().describe('Today (the first day of the window)'),
          to: z.string().describe('The last day of the window'),
          items: z.array(expiringItemSchema),
          next_cursor: z.string().nullable(),
        }),
        alternatives: { 'text/csv': `One row per certificate: ${EXPIRING_CSV_HEADER.join(', ')}` },
      },
    },
    async handler({ caller, query, request, reply }) {
      const tenantId = caller!.tenantId;
      const report = {
        days: query.days ?? 30,
        ...(query.requirement === undefined ? {} : { requirement: await requirementOf(tenantId, query.requirement) }),
        ...(query.source === undefined ? {} : { source: query.source }),
        ...(query.provider === undefined ? {} : { provider: query.provider }),
      };
      if (wantsCsv(request)) {
        const { from, to, batches } = compliance.expiringRows(tenantId, report);
        return sendCsv(reply, `expiring-${from}-to-${to}.csv`, EXPIRING_CSV_HEADER, batches, expiringCsvRecord);
      }
      return compliance.expiringPage(tenantId, { ...report, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor ?? null });
    },
  });
}
