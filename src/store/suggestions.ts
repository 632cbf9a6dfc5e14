import type { Kysely } from 'kysely';
import { AppError } from '../errors.ts';
import { chunk, isoNow, ROWS_PER_STATEMENT, type StoreContext } from './context.ts';
import { decodeKeyCursor, encodeKeyCursor } from './cursor.ts';
import type { Database, PersonSuggestionsTable } from './schema.ts';

/** Tags the suggestion list's cursors, (created_at, id), so another list's cursor is refused here. */
const SUGGESTION_CURSOR = 'suggestions';

export const SUGGESTION_STATUSES = ['open', 'merged', 'rejected'] as const;
export type SuggestionStatus = (typeof SUGGESTION_STATUSES)[number];

/**
 * Why two people may be one person:
 * - `same_name_dob`: same normalized name and date of birth, no shared strong key;
 * - `conflicting_dob` / `conflicting_national_id`: a strong key (email, provider user) pointed at a person whose
 *   date of birth / national id differs from the certificate's, so it was not linked on;
 * - `shared_email` / `shared_provider_user` / `shared_national_id`: the certificate was linked on a stronger key to one
 *   person while this key already belonged to another.
 */
export const SUGGESTION_REASONS = [
  'same_name_dob',
  'conflicting_dob',
  'conflicting_national_id',
  'shared_email',
  'shared_provider_user',
  'shared_national_id',
] as const;
export type SuggestionReason = (typeof SUGGESTION_REASONS)[number];

export interface PersonSuggestion {
  id: string;
  tenant_id: string;
  person_a: string;
  person_b: string;
  reason: SuggestionReason;
  status: SuggestionStatus;
  created_at: string;
  updated_at: string;
}

export interface NewSuggestion {
  tenant_id: string;
  person_a: string;
  person_b: string;
  reason: SuggestionReason;
}

export interface SuggestionRepository {
  /** Oldest first. */
  listSuggestions(tenantId: string, query?: { status?: SuggestionStatus; personId?: string }): Promise<PersonSuggestion[]>;
  getSuggestion(tenantId: string, id: string): Promise<PersonSuggestion | null>;
  /**
   * Oldest first, paginated. Open suggestions involving a person merged into another are left out while that merge
   * stands (they are moot; an unmerge brings them back).
   */
  listSuggestionPage(
    tenantId: string,
    query?: { status?: SuggestionStatus; limit?: number; cursor?: string | null },
  ): Promise<{ items: PersonSuggestion[]; next_cursor: string | null }>;
  /** AppError('not_found') when there is no such suggestion in the tenant. */
  setSuggestionStatus(tenantId: string, id: string, status: SuggestionStatus, opts?: { now?: Date }): Promise<PersonSuggestion>;
}

function toSuggestion(row: PersonSuggestionsTable): PersonSuggestion {
  return { ...row, reason: row.reason as SuggestionReason, status: row.status as SuggestionStatus };
}

/**
 * Records suggestions (on a transaction or the database); a pair already suggested for the same reason is left as it
 * is, whatever its status: a rejected suggestion stays rejected.
 */
export async function insertSuggestions(
  db: Kysely<Database>,
  newId: () => string,
  suggestions: readonly NewSuggestion[],
  now: string,
): Promise<void> {
  const byKey = new Map<string, PersonSuggestionsTable>();
  for (const s of suggestions) {
    if (s.person_a === s.person_b) continue;
    const [a, b] = s.person_a < s.person_b ? [s.person_a, s.person_b] : [s.person_b, s.person_a];
    byKey.set(`${s.tenant_id}|${a}|${b}|${s.reason}`, {
      id: newId(),
      tenant_id: s.tenant_id,
      person_a: a,
      person_b: b,
      reason: s.reason,
      status: 'open',
      created_at: now,
      updated_at: now,
    });
  }
  for (const part of chunk([...byKey.values()], ROWS_PER_STATEMENT)) {
    await db
      .insertInto('person_suggestions')
      .values(part)
      .onConflict((oc) => oc.columns(['tenant_id', 'person_a', 'person_b', 'reason']).doNothing())
      .execute();
  }
}

export function createSuggestionRepository(ctx: StoreContext): SuggestionRepository {
  const { db } = ctx;
  return {
    async listSuggestions(tenantId, query) {
      let q = db.selectFrom('person_suggestions').selectAll().where('tenant_id', '=', tenantId);
      if (query?.status !== undefined) q = q.where('status', '=', query.status);
      const personId = query?.personId;
      if (personId !== undefined) q = q.where((eb) => eb.or([eb('person_a', '=', personId), eb('person_b', '=', personId)]));
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      return rows.map(toSuggestion);
    },
    async getSuggestion(tenantId, id) {
      const row = await db.selectFrom('person_suggestions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toSuggestion(row);
    },
    async listSuggestionPage(tenantId, query = {}) {
      const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000);
      let q = db.selectFrom('person_suggestions as s').selectAll('s').where('s.tenant_id', '=', tenantId);
      if (query.status !== undefined) q = q.where('s.status', '=', query.status);
      q = q.where((eb) => {
        const mergedAway = eb
          .selectFrom('people as p')
          .select('p.id')
          .where('p.tenant_id', '=', tenantId)
          .where('p.merged_into', 'is not', null)
          .where((e) => e.or([e('p.id', '=', e.ref('s.person_a')), e('p.id', '=', e.ref('s.person_b'))]));
        return eb.or([eb('s.status', '<>', 'open'), eb.not(eb.exists(mergedAway))]);
      });
      if (query.cursor) {
        const after = decodeKeyCursor(SUGGESTION_CURSOR, query.cursor);
        q = q.where((eb) =>
          eb.or([eb('s.created_at', '>', after.key), eb.and([eb('s.created_at', '=', after.key), eb('s.id', '>', after.id)])]),
        );
      }
      const rows = await q.orderBy('s.created_at').orderBy('s.id').limit(limit + 1).execute();
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map(toSuggestion),
        next_cursor: rows.length > limit && last !== undefined ? encodeKeyCursor(SUGGESTION_CURSOR, { key: last.created_at, id: last.id }) : null,
      };
    },
    async setSuggestionStatus(tenantId, id, status, opts) {
      const r = await db
        .updateTable('person_suggestions')
        .set({ status, updated_at: isoNow(opts?.now) })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (r.numUpdatedRows === 0n) throw new AppError('not_found', `suggestion ${id} not found`);
      const row = await db.selectFrom('person_suggestions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return toSuggestion(row);
    },
  };
}
