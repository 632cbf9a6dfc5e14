/** People: search, the person page, merging two people by hand and undoing it, and suggested matches to review. */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { SUGGESTION_REASONS, SUGGESTION_STATUSES, type PersonSuggestion, type Store } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { asOfQuery, cursorQuery, idParams, idSchema, limitQuery, pageSchema } from '../schemas.ts';
import {
  buildPersonPage,
  mergeSchema,
  personPageSchema,
  personSummarySchema,
  toMergeBody,
  toPersonSummary,
} from './person-page.ts';

const TAG = 'people';

const suggestionSchema = z.object({
  id: z.string(),
  reason: z
    .enum(SUGGESTION_REASONS)
    .describe(
      'same_name_dob: same name and date of birth; conflicting_*: an email or user id pointed at a person whose date of birth or national id differs; shared_*: linked on a stronger key while this key belonged to the other',
    ),
  status: z.enum(SUGGESTION_STATUSES),
  people: z.array(personSummarySchema).describe('The two people, older first'),
  created_at: z.string(),
  updated_at: z.string(),
});
type SuggestionBody = z.output<typeof suggestionSchema>;

async function toSuggestionBodies(store: Store, tenantId: string, suggestions: readonly PersonSuggestion[]): Promise<SuggestionBody[]> {
  const people = await store.people.summarizePeople(
    tenantId,
    suggestions.flatMap((s) => [s.person_a, s.person_b]),
  );
  return suggestions.map((s) => {
    const pair = [people.get(s.person_a), people.get(s.person_b)]
      .filter((p) => p !== undefined)
      .sort((x, y) => (x.created_at === y.created_at ? (x.id < y.id ? -1 : 1) : x.created_at < y.created_at ? -1 : 1));
    return {
      id: s.id,
      reason: s.reason,
      status: s.status,
      people: pair.map(toPersonSummary),
      created_at: s.created_at,
      updated_at: s.updated_at,
    };
  });
}

export function registerPeopleRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;

  const openSuggestion = async (tenantId: string, id: string) => {
    const suggestion = await store.suggestions.getSuggestion(tenantId, id);
    if (suggestion === null) throw new AppError('not_found', `suggestion ${id} not found`);
    if (suggestion.status !== 'open') throw new AppError('conflict', `suggestion ${id} is ${suggestion.status} already`);
    return suggestion;
  };

  table.add({
    method: 'GET',
    url: '/v1/people',
    operationId: 'searchPeople',
    summary: 'Find people by name, email or national id',
    description:
      'By display name order. People merged into someone else are left out (their page still answers). A national id matches only in full.',
    tag: TAG,
    access: 'read',
    query: z.object({
      q: z
        .string()
        .max(200)
        .optional()
        .describe('Part of a name (any case), part of an email, or a whole national id; empty: everyone'),
      limit: limitQuery,
      cursor: cursorQuery,
    }),
    responses: { 200: { description: 'A page of people', schema: pageSchema(personSummarySchema) } },
    async handler({ caller, query }) {
      const page = await store.people.searchPeople(caller!.tenantId, {
        ...(query.q === undefined ? {} : { q: query.q }),
        ...(query.limit === undefined ? {} : { limit: query.limit }),
        cursor: query.cursor ?? null,
      });
      return { items: page.items.map(toPersonSummary), next_cursor: page.next_cursor };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/people/:id',
    operationId: 'getPerson',
    summary: 'A person: identities, certificates from every provider, compliance, merges',
    tag: TAG,
    access: 'read',
    params: idParams,
    query: z.object({ as_of: asOfQuery }),
    errors: [404],
    responses: { 200: { description: 'The person page', schema: personPageSchema } },
    async handler({ caller, params, query }) {
      return buildPersonPage(store, caller!.tenantId, params.id, {
        now: deps.now(),
        ...(query.as_of === undefined ? {} : { asOf: query.as_of }),
      });
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/people/:id/merge',
    operationId: 'mergePeople',
    summary: 'Merge another person into this one',
    description:
      "The other person's identities and certificates move to this person in one step; the other person's page then says merged_into. Undo with /unmerge.",
    tag: TAG,
    access: 'admin',
    params: idParams,
    body: z.strictObject({ person_id: idSchema.describe('The person merged away into this one') }),
    errors: [404, 409],
    responses: {
      200: { description: 'The merge and the merged person', schema: z.object({ merge: mergeSchema, person: personPageSchema }) },
    },
    async handler({ caller, params, body }) {
      const tenantId = caller!.tenantId;
      const merge = await store.merges.mergePeople(tenantId, params.id, body.person_id, { now: deps.now() });
      return { merge: toMergeBody(merge), person: await buildPersonPage(store, tenantId, params.id, { now: deps.now() }) };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/people/:id/unmerge',
    operationId: 'unmergePeople',
    summary: 'Undo a merge into this person',
    description:
      'Moves back exactly what the merge moved (certificates only while they are still on this person) and reopens the suggestions it settled.',
    tag: TAG,
    access: 'admin',
    params: idParams,
    body: z
      .strictObject({
        person_id: idSchema.optional().describe('The person merged into this one'),
        merge_id: idSchema.optional().describe('Or: the merge to undo'),
      })
      .refine((b) => (b.person_id === undefined) !== (b.merge_id === undefined), 'give exactly one of person_id and merge_id'),
    errors: [404, 409],
    responses: {
      200: {
        description: 'The undone merge, this person, and the person restored',
        schema: z.object({ merge: mergeSchema, person: personPageSchema, restored_person: personPageSchema }),
      },
    },
    async handler({ caller, params, body }) {
      const tenantId = caller!.tenantId;
      if (body.merge_id !== undefined) {
        const merge = await store.merges.getMerge(tenantId, body.merge_id);
        if (merge === null || merge.into_person_id !== params.id) {
          throw new AppError('not_found', `merge ${body.merge_id} into person ${params.id} not found`);
        }
      }
      const merge = await store.merges.unmergePeople(
        tenantId,
        body.merge_id !== undefined ? { mergeId: body.merge_id } : { intoId: params.id, fromId: body.person_id! },
        { now: deps.now() },
      );
      const now = deps.now();
      return {
        merge: toMergeBody(merge),
        person: await buildPersonPage(store, tenantId, merge.into_person_id, { now }),
        restored_person: await buildPersonPage(store, tenantId, merge.from_person_id, { now }),
      };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/suggestions',
    operationId: 'listSuggestions',
    summary: 'Pairs of people who may be one person, for review',
    description:
      'Oldest first. Never merged automatically. Open suggestions involving a person merged into someone else are left out while that merge stands.',
    tag: TAG,
    access: 'read',
    query: z.object({
      status: z.enum(SUGGESTION_STATUSES).optional().describe('Only suggestions in this state (default: all)'),
      limit: limitQuery,
      cursor: cursorQuery,
    }),
    responses: { 200: { description: 'A page of suggestions', schema: pageSchema(suggestionSchema) } },
    async handler({ caller, query }) {
      const tenantId = caller!.tenantId;
      const page = await store.suggestions.listSuggestionPage(tenantId, {
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(query.limit === undefined ? {} : { limit: query.limit }),
        cursor: query.cursor ?? null,
      });
      return { items: await toSuggestionBodies(store, tenantId, page.items), next_cursor: page.next_cursor };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/suggestions/:id/merge',
    operationId: 'mergeSuggestion',
    summary: 'Accept a suggestion: merge the pair into the older person',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404, 409],
    responses: {
      200: {
        description: 'The merge, the merged person, and the suggestion (now merged)',
        schema: z.object({ merge: mergeSchema, person: personPageSchema, suggestion: suggestionSchema }),
      },
    },
    async handler({ caller, params }) {
      const tenantId = caller!.tenantId;
      const suggestion = await openSuggestion(tenantId, params.id);
      const [body] = await toSuggestionBodies(store, tenantId, [suggestion]);
      const [older, newer] = body?.people ?? [];
      if (older === undefined || newer === undefined) throw new AppError('not_found', `suggestion ${params.id} not found`);
      const merge = await store.merges.mergePeople(tenantId, older.id, newer.id, { now: deps.now() });
      const settled = await store.suggestions.getSuggestion(tenantId, suggestion.id);
      const [suggestionBody] = await toSuggestionBodies(store, tenantId, settled === null ? [] : [settled]);
      return {
        merge: toMergeBody(merge),
        person: await buildPersonPage(store, tenantId, older.id, { now: deps.now() }),
        suggestion: suggestionBody!,
      };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/suggestions/:id/reject',
    operationId: 'rejectSuggestion',
    summary: 'Reject a suggestion: the two are different people',
    description: 'A rejected pair is not suggested again for the same reason.',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404, 409],
    responses: { 200: { description: 'The suggestion, now rejected', schema: suggestionSchema } },
    async handler({ caller, params }) {
      const tenantId = caller!.tenantId;
      await openSuggestion(tenantId, params.id);
      const rejected = await store.suggestions.setSuggestionStatus(tenantId, params.id, 'rejected', { now: deps.now() });
      const [body] = await toSuggestionBodies(store, tenantId, [rejected]);
      return body!;
    },
  });
}
