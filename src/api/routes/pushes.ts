/**
 * Push rules (which certificates certhub copies to Springest or Open edX) and the pushes they make, with a retry for
 * a failed one. Reading is for any key; changing rules and retrying is for admin keys: a rule decides where the
 * tenant's certificates go.
 */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { pushRuleBodySchema, pushRulePatchSchema, resolvePushRule, viewPushRule } from '../../outbound/push-rules.ts';
import { PUSH_STATES, type Push, type PushRule } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';
import { pushRuleSchema, pushSchema } from '../push-view.ts';
import type { RouteTable } from '../route.ts';
import { cursorQuery, idParams, idSchema, limitQuery } from '../schemas.ts';

const TAG = 'pushes';


function publicPush(p: Push): z.output<typeof pushSchema> {
  const { tenant_id: _t, target_key, attempt_started_at: _a, ...rest } = p;
  return { ...rest, target: target_key };
}

/** The rule as a body again (what PATCH merges into). */
function bodyOf(view: Awaited<ReturnType<typeof viewPushRule>>): Record<string, unknown> {
  return {
    name: view.name,
    paused: view.paused,
    match: 'requirement_id' in view.match ? { requirement: view.match.requirement_id } : { achievement: view.match.achievement },
    sources: view.sources,
    target_source: view.target_source,
    target: view.target,
    usernames: view.usernames,
  };
}

export function registerPushRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;
  const ruleOf = async (tenantId: string, id: string): Promise<PushRule> => {
    const rule = await store.pushes.getRule(tenantId, id);
    if (rule === null) throw new AppError('not_found', `push rule ${id} not found`);
    return rule;
  };
  const publicRule = async (rule: PushRule) => {
    const { tenant_id: _t, target_source_id: _s, target_key: _k, ...view } = await viewPushRule(store, rule);
    return view;
  };

  table.add({
    method: 'GET',
    url: '/v1/push-rules',
    operationId: 'listPushRules',
    summary: "The tenant's push rules",
    tag: TAG,
    access: 'read',
    responses: { 200: { description: 'Every rule, by name', schema: z.object({ items: z.array(pushRuleSchema) }) } },
    async handler({ caller }) {
      return { items: await Promise.all((await store.pushes.listRules(caller!.tenantId)).map(publicRule)) };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/push-rules',
    operationId: 'createPushRule',
    summary: 'Create a push rule; the certificates it covers now are queued at once',
    description:
      'Certificates that satisfy `match` (a requirement, or one achievement) from `sources` are pushed to `target_source`: ' +
      'to Springest as `target.certification_id` (posted with the archived PDF, at most 28 a minute per key, then tracked ' +
      'until Springest shows it: `awaiting_verification`), or to Open edX as `target.program_uuid` / `target.course_run_key` ' +
      "for the person's Open edX username (from a linked Open edX identity, else `usernames`). A revoked, deleted or " +
      'superseded original revokes its Open edX copy; awarded again, it is awarded again. Copies certhub made are ' +
      'recognised when the target is synced and are never stored as extra certificates.',
    tag: TAG,
    access: 'admin',
    body: pushRuleBodySchema,
    errors: [409],
    responses: { 201: { description: 'Created', schema: pushRuleSchema } },
    async handler({ caller, body, reply }) {
      const input = await resolvePushRule(store, caller!.tenantId, body);
      const rule = await store.pushes.createRule(caller!.tenantId, input, { now: deps.now() });
      deps.wakePushes();
      reply.code(201);
      return publicRule(rule);
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/push-rules/:id',
    operationId: 'getPushRule',
    summary: 'One push rule',
    tag: TAG,
    access: 'read',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The rule', schema: pushRuleSchema } },
    async handler({ caller, params }) {
      return publicRule(await ruleOf(caller!.tenantId, params.id));
    },
  });

  table.add({
    method: 'PATCH',
    url: '/v1/push-rules/:id',
    operationId: 'updatePushRule',
    summary: 'Change a push rule (fields left out stay); paused: true stops it planning new pushes, false resumes it',
    tag: TAG,
    access: 'admin',
    params: idParams,
    body: pushRulePatchSchema,
    errors: [404, 409],
    responses: { 200: { description: 'The rule as it is now', schema: pushRuleSchema } },
    async handler({ caller, params, body }) {
      const tenantId = caller!.tenantId;
      const current = bodyOf(await viewPushRule(store, await ruleOf(tenantId, params.id)));
      const merged = { ...current, ...Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) };
      const input = await resolvePushRule(store, tenantId, merged);
      const rule = await store.pushes.updateRule(tenantId, params.id, input, { now: deps.now() });
      deps.wakePushes();
      return publicRule(rule);
    },
  });

  table.add({
    method: 'DELETE',
    url: '/v1/push-rules/:id',
    operationId: 'deletePushRule',
    summary: 'Delete a push rule: its pushes not yet made are cancelled; copies already on the target stay there',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404],
    responses: { 204: { description: 'Deleted' } },
    async handler({ caller, params, reply }) {
      await store.pushes.deleteRule(caller!.tenantId, params.id, { now: deps.now() });
      return reply.code(204).send();
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/pushes',
    operationId: 'listPushes',
    summary: 'Pushes, newest first: per certificate, per rule or per state',
    tag: TAG,
    access: 'read',
    query: z.object({
      certificate_id: idSchema.optional().describe("Only this certificate's pushes"),
      rule_id: idSchema.optional().describe("Only this rule's pushes"),
      state: z.enum(PUSH_STATES).optional(),
      limit: limitQuery,
      cursor: cursorQuery,
    }),
    responses: {
      200: { description: 'A page of pushes', schema: z.object({ items: z.array(pushSchema), next_cursor: z.string().nullable() }) },
    },
    async handler({ caller, query }) {
      const page = await store.pushes.listPushes(caller!.tenantId, {
        ...(query.certificate_id === undefined ? {} : { certificate_id: query.certificate_id }),
        ...(query.rule_id === undefined ? {} : { rule_id: query.rule_id }),
        ...(query.state === undefined ? {} : { state: query.state }),
        ...(query.limit === undefined ? {} : { limit: query.limit }),
        cursor: query.cursor ?? null,
      });
      return { items: page.items.map(publicPush), next_cursor: page.next_cursor };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/pushes/:id',
    operationId: 'getPush',
    summary: 'One push',
    tag: TAG,
    access: 'read',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The push', schema: pushSchema } },
    async handler({ caller, params }) {
      const push = await store.pushes.getPush(caller!.tenantId, params.id);
      if (push === null) throw new AppError('not_found', `push ${params.id} not found`);
      return publicPush(push);
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/pushes/:id/retry',
    operationId: 'retryPush',
    summary: 'Try a push again now (a failed one starts over; a create in doubt is looked for at the target first)',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404, 409],
    responses: { 202: { description: 'Due now', schema: pushSchema } },
    async handler({ caller, params, reply }) {
      const push = await store.pushes.retryPush(caller!.tenantId, params.id, { now: deps.now() });
      deps.wakePushes();
      reply.code(202);
      return publicPush(push);
    },
  });
}
