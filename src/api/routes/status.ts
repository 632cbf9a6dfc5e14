/** Status checks: does this person (or each of 10,000 people) hold a valid certificate for X? */
import { z } from 'zod';
import { ACHIEVEMENT_STANDINGS, COMPLIANCE_STATES } from '../../domain/requirement.ts';
import { AppError } from '../../errors.ts';
import { QUOTA_COSTS, statusCost } from '../key-quota.ts';
import { LIVE_BULK_MAX_PEOPLE, liveCheckLimits, liveProviderTitles, liveStatus, type LiveEntry } from '../../compliance/live.ts';
import { MAX_BULK_PEOPLE, personQuerySchema, refineScope, statusScopeShape, type PersonQuery, type StatusScope } from '../../compliance/person-query.ts';
import { checkPeople, findRequirement, type CheckedPerson, type StatusAnswer } from '../../compliance/status-check.ts';
import type { RouteDeps } from '../deps.ts';
import { describeZodError, type RouteTable } from '../route.ts';
import { ERROR_CODES } from '../../errors.ts';
import { boolQuery, certificateSchema, providerIdOutput } from '../schemas.ts';

const achievementRefSchema = z
  .object({
    provider: providerIdOutput.optional(),
    source: z.string().optional(),
    type: z.string().optional(),
    external_id: z.string().optional(),
    code: z.string().nullable().optional(),
    title: z.string().nullable().optional(),
  })
  .describe('The matcher asked for, or (unrestricted) the achievement of the certificates: provider, source, type, external_id, code, title');

const achievementAnswerSchema = z.object({
  achievement: achievementRefSchema,
  standing: z.enum(ACHIEVEMENT_STANDINGS).describe('valid beats expiring (within warn_days of its end) beats expired beats revoked; missing: nothing counts'),
  valid_until: z.string().nullable().describe('The last day it counts (YYYY-MM-DD); a requirement without end dates counts valid_months_without_end from the start'),
  certificate: certificateSchema.nullable().describe('The certificate proving the standing; null when missing'),
});

const liveEntrySchema = z.object({
  source: z.string(),
  provider: providerIdOutput,
  ok: z.boolean(),
  answer: z.record(z.string(), z.unknown()).optional().describe("The provider's answer (FrontCore: asked_by, checks per course; Open edX: username, status per course run)"),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }).optional().describe('Why this source could not answer'),
});

type LiveBody = z.output<typeof liveEntrySchema>;

/** A live entry as answered; the spread makes the provider's answer a plain object type (an interface has no index signature). */
function liveBody(entry: LiveEntry): LiveBody {
  const { answer, ...rest } = entry;
  return answer === undefined ? rest : { ...entry, answer: { ...answer } };
}

const statusAnswerSchema = z.object({
  found: z.boolean().describe('Somebody matches the identification (also when several do)'),
  identified_by: z.enum(['email', 'national_id', 'name_dob', 'provider_user']),
  ambiguous: z.boolean().describe('Several people match (only possible by date of birth + name): nothing is answered for any of them'),
  person_id: z.string().nullable(),
  person_ids: z.array(z.string()).describe('Every person matching'),
  as_of: z.string().describe('The instant answered for'),
  achievements: z.array(achievementAnswerSchema),
  requirement: z
    .object({
      id: z.string(),
      name: z.string(),
      state: z.enum(COMPLIANCE_STATES),
      standing: z.enum(ACHIEVEMENT_STANDINGS),
      valid_until: z.string().nullable(),
      certificate: certificateSchema.nullable(),
    })
    .nullable()
    .optional()
    .describe('With a requirement: the standing against it (null when not found or ambiguous)'),
  live: z.array(liveEntrySchema).optional().describe(`With ?live=true: one entry per source whose provider answers live checks (${liveProviderTitles()})`),
});

const bulkResultSchema = z.union([
  statusAnswerSchema.extend({ index: z.number().int() }),
  z.object({ index: z.number().int(), error: z.object({ code: z.literal('invalid_request'), message: z.string() }) }),
]);

const liveQuery = z.object({
  live: boolQuery.describe(`Also ask the providers' own status endpoints (${liveProviderTitles()}). Bulk: the first ${LIVE_BULK_MAX_PEOPLE} people only; ${liveCheckLimits()}`),
});

const singleBody = z
  .strictObject({ person: personQuerySchema, ...statusScopeShape })
  .superRefine((b, ctx) => refineScope(b, ctx));

const bulkBody = z
  .strictObject({
    // Entries are validated one by one (a bad one is answered by its index), so only the list itself is checked here.
    people: z.array(z.unknown()).min(1).max(MAX_BULK_PEOPLE).describe(`1 to ${MAX_BULK_PEOPLE} person queries, each like body.person of POST /v1/status`),
    ...statusScopeShape,
  })
  .superRefine((b, ctx) => refineScope(b, ctx));

function scopeOf(body: StatusScope): StatusScope {
  return { achievements: body.achievements, requirement: body.requirement, warn_days: body.warn_days, as_of: body.as_of };
}

export function registerStatusRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;

  /** The matchers live checks ask about: the requirement's, the ones given, or null (all the person holds). */
  async function liveMatchers(tenantId: string, scope: StatusScope) {
    if (scope.requirement !== undefined) return (await findRequirement(store, tenantId, scope.requirement)).rule.any_of;
    return scope.achievements ?? null;
  }

  async function withLive(tenantId: string, checked: CheckedPerson[], scope: StatusScope): Promise<LiveBody[][]> {
    const live = await liveStatus({ store, connector: deps.connector, tenantId, people: checked, matchers: await liveMatchers(tenantId, scope) });
    return live.map((entries) => entries.map(liveBody));
  }

  table.add({
    method: 'POST',
    url: '/v1/status',
    operationId: 'checkStatus',
    summary: 'Does this person hold a valid certificate? (one person)',
    description:
      'Identify the person by exactly one of email, national_id, date_of_birth + name, provider_user {source, user_id}. ' +
      'Restrict to `achievements` (matchers) or a `requirement` (id or name); without either, every achievement the ' +
      'person has certificates for is answered (grouped by source, type and external id; ones only deleted left out).',
    tag: 'status',
    access: 'read',
    query: liveQuery,
    body: singleBody,
    cost: ({ query }) => statusCost(1, query.live === true),
    errors: [404],
    responses: { 200: { description: 'The answer (found: false when nobody matches)', schema: statusAnswerSchema } },
    async handler({ caller, body, query }) {
      const tenantId = caller!.tenantId;
      const scope = scopeOf(body);
      const checked = await checkPeople(store, tenantId, [body.person], { ...scope, now: deps.now(), where: () => 'body.person' });
      const one = checked[0]!;
      if (!one.result.ok) throw new AppError('invalid_request', one.result.error.message);
      const answer: StatusAnswer & { live?: LiveBody[] } = one.result.answer;
      if (query.live === true) answer.live = (await withLive(tenantId, checked, scope))[0] ?? [];
      return answer;
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/status/bulk',
    operationId: 'checkStatusBulk',
    summary: `Status of up to ${MAX_BULK_PEOPLE} people at once`,
    description:
      'Answers in input order, each with its `index`. An entry that is not a valid person query is answered ' +
      '`{index, error: {code: invalid_request, message}}` (the message names the field, e.g. `people[3].email: ...`) ' +
      'while the others are answered. More than 10,000 entries, or a bad `achievements` / `requirement`, is a 400 for ' +
      'the whole request; an unknown requirement is a 404. Costs one unit of the key\'s quota per started ' +
      `${QUOTA_COSTS.bulkPeoplePerUnit} people (\`?live=true\`: ${QUOTA_COSTS.live} more).`,
    tag: 'status',
    access: 'read',
    query: liveQuery,
    body: bulkBody,
    cost: ({ query, body }) => statusCost(body.people.length, query.live === true),
    errors: [404],
    responses: { 200: { description: 'One result per entry, in order', schema: z.object({ results: z.array(bulkResultSchema) }) } },
    async handler({ caller, body, query }) {
      const tenantId = caller!.tenantId;
      const scope = scopeOf(body);
      type BulkResult = ({ index: number } & StatusAnswer & { live?: LiveBody[] }) | { index: number; error: { code: 'invalid_request'; message: string } };
      const results: BulkResult[] = new Array<BulkResult>(body.people.length);
      const valid: { index: number; query: PersonQuery }[] = [];
      body.people.forEach((entry, index) => {
        const parsed = personQuerySchema.safeParse(entry);
        if (parsed.success) valid.push({ index, query: parsed.data });
        else results[index] = { index, error: { code: 'invalid_request', message: describeZodError(`people[${index}]`, parsed.error) } };
      });
      const checked = await checkPeople(
        store,
        tenantId,
        valid.map((v) => v.query),
        { ...scope, now: deps.now(), where: (i) => `people[${valid[i]!.index}]` },
      );
      const live = query.live === true ? await withLive(tenantId, checked, scope) : null;
      checked.forEach((c, k) => {
        const index = valid[k]!.index;
        results[index] = c.result.ok
          ? { index, ...c.result.answer, ...(live === null ? {} : { live: live[k] ?? [] }) }
          : { index, error: c.result.error };
      });
      return { results };
    },
  });
}
