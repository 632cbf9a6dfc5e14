/**
 * Merging two people into one by hand, and undoing it. A merge moves everything of the merged-away person (`from`) to
 * the surviving one (`into`) in one transaction and records exactly what moved in person_merges.moved_json, so an
 * unmerge moves exactly that back. The merged-away person stays (people.merged_into says where it went), so links to
 * it keep answering.
 */
import type { Transaction } from 'kysely';
import { AppError } from '../errors.ts';
import type { NewEvent } from '../outbound/catalog.ts';
import { recordEvents } from './events.ts';
import { chunk, isoNow, VALUES_PER_LIST, type StoreContext } from './context.ts';
import type { Database, PeopleTable, PersonIdentitiesTable, PersonMergesTable } from './schema.ts';
import { personNationalIdPlace } from './secret-places.ts';

type Trx = Transaction<Database>;

/** Fields of `into` that were empty and were filled from `from` (cleared again on unmerge). */
export type FilledField = 'display_name' | 'date_of_birth' | 'national_id';

/** What a merge moved: the content of person_merges.moved_json. */
export interface MergeMoved {
  /** from's identities now on into. */
  identity_ids: string[];
  /** from's certificates now on into. */
  certificate_ids: string[];
  /**
   * from's identities into already had (same kind, source and value: in practice name + date of birth, the one kind
   * two people may share): removed by the merge, put back as they were by an unmerge. National ids only as HMAC.
   */
  dropped_identities: PersonIdentitiesTable[];
  filled: FilledField[];
  /** Open suggestions between the two that the merge settled (status merged); an unmerge opens them again. */
  suggestion_ids: string[];
}

export interface PersonMerge {
  id: string;
  tenant_id: string;
  into_person_id: string;
  from_person_id: string;
  moved: MergeMoved;
  created_at: string;
  undone_at: string | null;
}

export type UnmergeTarget = { mergeId: string } | { intoId: string; fromId: string };

export interface MergeRepository {
  /**
   * Merges `fromId` into `intoId` (both of the tenant, else AppError('not_found')). AppError('invalid_request') for a
   * person with itself, AppError('conflict') when either is merged into someone already.
   */
  mergePeople(tenantId: string, intoId: string, fromId: string, opts?: { now?: Date }): Promise<PersonMerge>;
  /**
   * Undoes a merge (by its id, or the standing merge of `fromId` into `intoId`): what it moved goes back to `from`,
   * certificates only while they are still on `into`. AppError('not_found') when there is no such merge standing;
   * AppError('conflict') when `into` has itself been merged away since (undo that first).
   */
  unmergePeople(tenantId: string, target: UnmergeTarget, opts?: { now?: Date }): Promise<PersonMerge>;
  getMerge(tenantId: string, mergeId: string): Promise<PersonMerge | null>;
  /** Merges standing (not undone) in which the person is either side, oldest first. */
  listStandingMerges(tenantId: string, personId: string): Promise<PersonMerge[]>;
}

function toMerge(row: PersonMergesTable): PersonMerge {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    into_person_id: row.into_person_id,
    from_person_id: row.from_person_id,
    moved: JSON.parse(row.moved_json) as MergeMoved,
    created_at: row.created_at,
    undone_at: row.undone_at,
  };
}

function mergeEvent(type: 'person.merged' | 'person.unmerged', merge: { id: string; into_person_id: string; from_person_id: string }, now: string): NewEvent {
  return { type, occurred_at: now, data: { merge_id: merge.id, into_person_id: merge.into_person_id, from_person_id: merge.from_person_id } };
}

/** Identities that are the same key: kind, scope and value (national ids by HMAC). */
function identityKey(row: Pick<PersonIdentitiesTable, 'kind' | 'source_id' | 'value' | 'value_hmac'>): string {
  return [row.kind, row.source_id ?? '', row.value ?? '', row.value_hmac ?? ''].join('\u0000');
}

export function createMergeRepository(ctx: StoreContext): MergeRepository {
  const { db, box } = ctx;

  /** Both people of the tenant, locked on PostgreSQL (in id order) so two merges of one person cannot interleave. */
  async function lockPeople(trx: Trx, tenantId: string, ids: readonly string[]): Promise<Map<string, PeopleTable>> {
    let q = trx.selectFrom('people').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).orderBy('id');
    if (ctx.dialect === 'postgres') q = q.forUpdate();
    return new Map((await q.execute()).map((r) => [r.id, r]));
  }

  async function setPersonOfCertificates(trx: Trx, tenantId: string, ids: readonly string[], from: string, to: string, now: string) {
    for (const part of chunk(ids, VALUES_PER_LIST)) {
      // person_id is part of what readers see, so the move shows as a change (as linkCertificateToPerson does).
      await trx
        .updateTable('certificates')
        .set({ person_id: to, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('person_id', '=', from)
        .where('id', 'in', part)
        .execute();
    }
  }

  const repo: MergeRepository = {
    async mergePeople(tenantId, intoId, fromId, opts) {
      if (intoId === fromId) throw new AppError('invalid_request', 'a person cannot be merged with itself');
      const now = isoNow(opts?.now);
      return db.transaction().execute(async (trx) => {
        const people = await lockPeople(trx, tenantId, [intoId, fromId]);
        const into = people.get(intoId);
        const from = people.get(fromId);
        if (into === undefined) throw new AppError('not_found', `person ${intoId} not found`);
        if (from === undefined) throw new AppError('not_found', `person ${fromId} not found`);
        for (const p of [from, into]) {
          if (p.merged_into !== null) throw new AppError('conflict', `person ${p.id} is already merged into ${p.merged_into}`);
        }

        const intoKeys = new Set(
          (await trx.selectFrom('person_identities').selectAll().where('person_id', '=', intoId).execute()).map(identityKey),
        );
        const fromIdentities = await trx.selectFrom('person_identities').selectAll().where('person_id', '=', fromId).orderBy('id').execute();
        const dropped = fromIdentities.filter((i) => intoKeys.has(identityKey(i)));
        const movedIdentityIds = fromIdentities.filter((i) => !intoKeys.has(identityKey(i))).map((i) => i.id);
        for (const part of chunk(
          dropped.map((i) => i.id),
          VALUES_PER_LIST,
        )) {
          await trx.deleteFrom('person_identities').where('id', 'in', part).execute();
        }
        for (const part of chunk(movedIdentityIds, VALUES_PER_LIST)) {
          await trx.updateTable('person_identities').set({ person_id: intoId }).where('id', 'in', part).execute();
        }

        const certificateIds = (
          await trx
            .selectFrom('certificates')
            .select('id')
            .where('tenant_id', '=', tenantId)
            .where('person_id', '=', fromId)
            .orderBy('id')
            .execute()
        ).map((r) => r.id);
        await setPersonOfCertificates(trx, tenantId, certificateIds, fromId, intoId, now);

        // What into lacks and from knows (as the resolver would have learned it from from's certificates).
        const filled: FilledField[] = [];
        const patch: Partial<PeopleTable> = {};
        if (into.display_name === null && from.display_name !== null) {
          filled.push('display_name');
          patch.display_name = from.display_name;
        }
        if (into.date_of_birth === null && from.date_of_birth !== null) {
          filled.push('date_of_birth');
          patch.date_of_birth = from.date_of_birth;
        }
        if (into.national_id_hmac === null && from.national_id_hmac !== null) {
          filled.push('national_id');
          patch.national_id_hmac = from.national_id_hmac;
          // Bound to its person (secret-places.ts): into gets its own ciphertext of the same number.
          patch.national_id_ciphertext =
            from.national_id_ciphertext === null
              ? null
              : box.encrypt(
                  box.decrypt(from.national_id_ciphertext, personNationalIdPlace(tenantId, fromId)),
                  personNationalIdPlace(tenantId, intoId),
                );
        }
        if (filled.length > 0) await trx.updateTable('people').set({ ...patch, updated_at: now }).where('id', '=', intoId).execute();
        await trx.updateTable('people').set({ merged_into: intoId, updated_at: now }).where('id', '=', fromId).execute();

        const [a, b] = intoId < fromId ? [intoId, fromId] : [fromId, intoId];
        const suggestionIds = (
          await trx
            .selectFrom('person_suggestions')
            .select('id')
            .where('tenant_id', '=', tenantId)
            .where('person_a', '=', a)
            .where('person_b', '=', b)
            .where('status', '=', 'open')
            .orderBy('id')
            .execute()
        ).map((r) => r.id);
        if (suggestionIds.length > 0) {
          await trx.updateTable('person_suggestions').set({ status: 'merged', updated_at: now }).where('id', 'in', suggestionIds).execute();
        }

        const moved: MergeMoved = {
          identity_ids: movedIdentityIds,
          certificate_ids: certificateIds,
          dropped_identities: dropped,
          filled,
          suggestion_ids: suggestionIds,
        };
        const row: PersonMergesTable = {
          id: ctx.newId(),
          tenant_id: tenantId,
          into_person_id: intoId,
          from_person_id: fromId,
          moved_json: JSON.stringify(moved),
          created_at: now,
          undone_at: null,
        };
        await trx.insertInto('person_merges').values(row).execute();
        await recordEvents(ctx, trx, tenantId, [mergeEvent('person.merged', row, now)], now);
        return toMerge(row);
      });
    },

    async unmergePeople(tenantId, target, opts) {
      const now = isoNow(opts?.now);
      return db.transaction().execute(async (trx) => {
        let find = trx.selectFrom('person_merges').selectAll().where('tenant_id', '=', tenantId).where('undone_at', 'is', null);
        find =
          'mergeId' in target
            ? find.where('id', '=', target.mergeId)
            : find.where('into_person_id', '=', target.intoId).where('from_person_id', '=', target.fromId);
        const row = await find.orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
        if (row === undefined) {
          throw new AppError(
            'not_found',
            'mergeId' in target
              ? `merge ${target.mergeId} not found (or already undone)`
              : `person ${target.fromId} is not merged into ${target.intoId}`,
          );
        }
        const merge = toMerge(row);
        const intoId = merge.into_person_id;
        const fromId = merge.from_person_id;
        const people = await lockPeople(trx, tenantId, [intoId, fromId]);
        const into = people.get(intoId);
        const from = people.get(fromId);
        if (into === undefined || from === undefined) throw new AppError('not_found', `merge ${merge.id} not found`);
        if (into.merged_into !== null) {
          throw new AppError('conflict', `person ${intoId} has since been merged into ${into.merged_into}; undo that merge first`);
        }

        const { moved } = merge;
        for (const part of chunk(moved.identity_ids, VALUES_PER_LIST)) {
          await trx
            .updateTable('person_identities')
            .set({ person_id: fromId })
            .where('tenant_id', '=', tenantId)
            .where('person_id', '=', intoId)
            .where('id', 'in', part)
            .execute();
        }
        for (const identity of moved.dropped_identities) {
          // Never fails the unmerge: a key that some person holds by now stays where it is.
          await trx
            .insertInto('person_identities')
            .values({ ...identity, person_id: fromId, tenant_id: tenantId })
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
        await setPersonOfCertificates(trx, tenantId, moved.certificate_ids, intoId, fromId, now);

        // Give back only what the merge filled in and nothing has changed since.
        for (const field of moved.filled) {
          let clear = trx.updateTable('people').where('id', '=', intoId);
          if (field === 'national_id') {
            if (from.national_id_hmac === null) continue;
            clear = clear.set({ national_id_hmac: null, national_id_ciphertext: null }).where('national_id_hmac', '=', from.national_id_hmac);
          } else {
            const value = from[field];
            if (value === null) continue;
            clear = clear.set({ [field]: null }).where(field, '=', value);
          }
          await clear.set({ updated_at: now }).execute();
        }
        await trx.updateTable('people').set({ merged_into: null, updated_at: now }).where('id', '=', fromId).execute();

        for (const part of chunk(moved.suggestion_ids, VALUES_PER_LIST)) {
          await trx
            .updateTable('person_suggestions')
            .set({ status: 'open', updated_at: now })
            .where('tenant_id', '=', tenantId)
            .where('status', '=', 'merged')
            .where('id', 'in', part)
            .execute();
        }
        await trx.updateTable('person_merges').set({ undone_at: now }).where('id', '=', merge.id).execute();
        await recordEvents(ctx, trx, tenantId, [mergeEvent('person.unmerged', merge, now)], now);
        return { ...merge, undone_at: now };
      });
    },

    async getMerge(tenantId, mergeId) {
      const row = await db.selectFrom('person_merges').selectAll().where('tenant_id', '=', tenantId).where('id', '=', mergeId).executeTakeFirst();
      return row === undefined ? null : toMerge(row);
    },

    async listStandingMerges(tenantId, personId) {
      const rows = await db
        .selectFrom('person_merges')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('undone_at', 'is', null)
        .where((eb) => eb.or([eb('into_person_id', '=', personId), eb('from_person_id', '=', personId)]))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toMerge);
    },
  };
  return repo;
}
