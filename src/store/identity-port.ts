/**
 * The store's side of person resolution (identity/port.ts): batched reads of what the store knows about a page's keys
 * and multi-row writes of the plan, all on the page's transaction.
 */
import type { Transaction } from 'kysely';
import type { IdentityKind } from '../domain/person.ts';
import type { IdentityPort, KnownIdentity } from '../identity/port.ts';
import { chunk, ROWS_PER_STATEMENT, VALUES_PER_LIST, type StoreContext } from './context.ts';
import type { Database } from './schema.ts';
import { AppError } from '../errors.ts';
import { personNationalIdPlace } from './secret-places.ts';
import { insertSuggestions } from './suggestions.ts';

/**
 * `nationalIds`: the page's national ids (normalized) by HMAC. The plan hands over the certificate's ciphertext, bound
 * to the certificate; a person's own copy is encrypted anew for the person.
 */
export function createIdentityPort(ctx: StoreContext, trx: Transaction<Database>, nationalIds: ReadonlyMap<string, string>): IdentityPort {
  const encryptForPerson = (tenantId: string, personId: string, hmac: string): string => {
    const plain = nationalIds.get(hmac);
    if (plain === undefined) throw new AppError('internal', `national id of person ${personId} is not one of the page's`);
    return ctx.box.encrypt(plain, personNationalIdPlace(tenantId, personId));
  };
  return {
    async findIdentities(tenantId, sourceId, lookup) {
      const identities = trx
        .selectFrom('person_identities')
        .select(['person_id', 'kind', 'source_id', 'value', 'value_hmac'])
        .where('tenant_id', '=', tenantId);
      const found: { person_id: string; kind: string; source_id: string | null; value: string | null; value_hmac: string | null }[] = [];
      for (const part of chunk(lookup.emails, VALUES_PER_LIST)) {
        found.push(...(await identities.where('kind', '=', 'email').where('value', 'in', part).execute()));
      }
      for (const part of chunk(lookup.nationalIdHmacs, VALUES_PER_LIST)) {
        found.push(...(await identities.where('kind', '=', 'national_id').where('value_hmac', 'in', part).execute()));
      }
      for (const part of chunk(lookup.providerUserIds, VALUES_PER_LIST)) {
        found.push(
          ...(await identities.where('kind', '=', 'provider_user').where('source_id', '=', sourceId).where('value', 'in', part).execute()),
        );
      }
      for (const part of chunk(lookup.nameDobs, VALUES_PER_LIST)) {
        found.push(...(await identities.where('kind', '=', 'name_dob').where('value', 'in', part).execute()));
      }
      return found.map((row): KnownIdentity => ({ ...row, kind: row.kind as IdentityKind }));
    },

    async findPeople(tenantId, ids) {
      const people = [];
      for (const part of chunk(ids, VALUES_PER_LIST)) {
        people.push(
          ...(await trx
            .selectFrom('people')
            .select(['id', 'date_of_birth', 'national_id_hmac', 'merged_into'])
            .where('tenant_id', '=', tenantId)
            .where('id', 'in', part)
            .execute()),
        );
      }
      return people;
    },

    async createPeople(tenantId, people, now) {
      const rows = people.map((p) => ({
        id: p.id,
        tenant_id: tenantId,
        display_name: p.display_name,
        date_of_birth: p.date_of_birth,
        national_id_ciphertext: p.national_id ? encryptForPerson(tenantId, p.id, p.national_id.hmac) : null,
        national_id_hmac: p.national_id?.hmac ?? null,
        created_at: now,
        updated_at: now,
      }));
      for (const part of chunk(rows, ROWS_PER_STATEMENT)) await trx.insertInto('people').values(part).execute();
    },

    async fillPeople(patches, now) {
      for (const [personId, change] of patches) {
        // Only ever fills what the person lacks (a concurrent writer may have filled it first).
        if (change.date_of_birth !== undefined) {
          await trx
            .updateTable('people')
            .set({ date_of_birth: change.date_of_birth, updated_at: now })
            .where('id', '=', personId)
            .where('date_of_birth', 'is', null)
            .execute();
        }
        if (change.national_id !== undefined) {
          const person = await trx.selectFrom('people').select('tenant_id').where('id', '=', personId).executeTakeFirst();
          if (person === undefined) continue;
          const ciphertext = encryptForPerson(person.tenant_id, personId, change.national_id.hmac);
          await trx
            .updateTable('people')
            .set({ national_id_hmac: change.national_id.hmac, national_id_ciphertext: ciphertext, updated_at: now })
            .where('id', '=', personId)
            .where('national_id_hmac', 'is', null)
            .execute();
        }
      }
    },

    async fillMissingNames(tenantId, names, now) {
      for (const part of chunk([...names.keys()], VALUES_PER_LIST)) {
        const nameless = await trx
          .selectFrom('people')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', part)
          .where('display_name', 'is', null)
          .execute();
        for (const { id } of nameless) {
          await trx
            .updateTable('people')
            .set({ display_name: names.get(id) ?? null, updated_at: now })
            .where('id', '=', id)
            .where('display_name', 'is', null)
            .execute();
        }
      }
    },

    async addIdentities(tenantId, identities, now) {
      const rows = identities.map((i) => ({ id: ctx.newId(), tenant_id: tenantId, ...i, created_at: now }));
      for (const part of chunk(rows, ROWS_PER_STATEMENT)) await trx.insertInto('person_identities').values(part).execute();
    },

    async addSuggestions(tenantId, suggestions, now) {
      await insertSuggestions(
        trx,
        ctx.newId,
        suggestions.map((s) => ({ tenant_id: tenantId, ...s })),
        now,
      );
    },
  };
}
