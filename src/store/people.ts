import { sql } from 'kysely';
import type { IdentityKind, MatchedBy } from '../domain/person.ts';
import { AppError } from '../errors.ts';
import { chunk, isoNow, isUniqueViolation, VALUES_PER_LIST, type StoreContext } from './context.ts';
import { nationalIdHmac, normalizeNationalId, protectNationalId } from './national-id.ts';
import type { PeopleTable, PersonIdentitiesTable } from './schema.ts';
import { personNationalIdPlace } from './secret-places.ts';


/** A person as reads return it: the national id only as `has_national_id` (see getPersonNationalId). */
export interface StoredPerson {
  id: string;
  tenant_id: string;
  display_name: string | null;
  date_of_birth: string | null;
  has_national_id: boolean;
  created_at: string;
  updated_at: string;
  /** Set while this person is merged into another (merges.ts): its identities and certificates are there. */
  merged_into: string | null;
}

export interface StoredPersonIdentity {
  id: string;
  person_id: string;
  kind: IdentityKind;
  source_id: string | null;
  /** Normalized value; null for national_id (kept only as an HMAC). */
  value: string | null;
  matched_by: MatchedBy;
  created_at: string;
}

/** A person as lists of many people show them: who, by name. */
export interface PersonName {
  id: string;
  display_name: string | null;
}

export interface NewIdentity {
  kind: IdentityKind;
  value: string;
  /** The source the value is scoped to (provider_user ids are per source); null for tenant-wide identities. */
  source_id?: string | null;
  matched_by: MatchedBy;
}

export interface PeopleRepository {
  /** A national id given here is stored encrypted + HMAC and also recorded as a national_id identity. */
  createPerson(
    tenantId: string,
    input: { display_name?: string | null; date_of_birth?: string | null; national_id?: string | null },
    opts?: { now?: Date },
  ): Promise<StoredPerson>;
  getPerson(tenantId: string, personId: string): Promise<StoredPerson | null>;
  getPersonNationalId(tenantId: string, personId: string): Promise<string | null>;
  /**
   * Records that `value` identifies the person. Idempotent for the same person; AppError('conflict') when the
   * email / national id / provider user already belongs to another person (name_dob may be shared), and
   * AppError('not_found') when the tenant has no such person.
   */
  addIdentity(tenantId: string, personId: string, identity: NewIdentity, opts?: { now?: Date }): Promise<StoredPersonIdentity>;
  /** Empty when the tenant has no such person. */
  listIdentities(tenantId: string, personId: string): Promise<StoredPersonIdentity[]>;
  /** People holding the identity; `sourceId` undefined means any source, null means tenant-wide identities only. */
  findPeopleByIdentity(
    tenantId: string,
    kind: IdentityKind,
    value: string,
    opts?: { sourceId?: string | null },
  ): Promise<StoredPerson[]>;
  /**
   * Batched findPeopleByIdentity for many values of one kind: value as given -> the people holding it (values no one
   * holds are absent). A few statements whatever the count (VALUES_PER_LIST values each). People merged into another
   * are left out. `sourceId` as in findPeopleByIdentity.
   */
  findPeopleByIdentities(
    tenantId: string,
    kind: IdentityKind,
    values: readonly string[],
    opts?: { sourceId?: string | null },
  ): Promise<Map<string, StoredPerson[]>>;
  /** Sets (or with null clears) the certificate's person; both must belong to the tenant, else AppError('not_found'). */
  linkCertificateToPerson(
    tenantId: string,
    certificateId: string,
    personId: string | null,
    opts?: { now?: Date },
  ): Promise<void>;
  /**
   * One page of the tenant's people in id order, after `after`, leaving out people merged into another. `q` keeps
   * those whose name or any email contains it (case-insensitive); `createdBy` (ISO instant) those created by then.
   */
  listPeopleInIdOrder(
    tenantId: string,
    opts: { after?: string | null; limit: number; q?: string; createdBy?: string },
  ): Promise<PersonName[]>;
  /** These people's names (any number of ids; unknown ids and other tenants' people are left out). */
  listPeopleNames(tenantId: string, personIds: readonly string[]): Promise<PersonName[]>;
  /** Each person's primary email: the first email identity recorded for them. People without one are left out. */
  primaryEmails(tenantId: string, personIds: readonly string[]): Promise<Map<string, string>>;
}

/** `%text%` for LIKE, with the text's own % _ and \ taken literally (ESCAPE '\'). */
function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The store's last line of normalization; callers normalize with domain/identity.ts first (this is idempotent on that). */
export function normalizeIdentityValue(kind: IdentityKind, value: string): string {
  const trimmed = value.trim();
  if (kind === 'email') return trimmed.toLowerCase();
  if (kind === 'national_id') return normalizeNationalId(trimmed);
  return trimmed;
}

export function toPerson(row: PeopleTable): StoredPerson {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    display_name: row.display_name,
    date_of_birth: row.date_of_birth,
    has_national_id: row.national_id_hmac !== null,
    created_at: row.created_at,
    updated_at: row.updated_at,
    merged_into: row.merged_into,
  };
}

function toIdentity(row: PersonIdentitiesTable): StoredPersonIdentity {
  return {
    id: row.id,
    person_id: row.person_id,
    kind: row.kind as IdentityKind,
    source_id: row.source_id,
    value: row.value,
    matched_by: row.matched_by as MatchedBy,
    created_at: row.created_at,
  };
}

export function createPeopleRepository(ctx: StoreContext): PeopleRepository {
  const { db, box } = ctx;

  const identityColumns = (kind: IdentityKind, value: string) =>
    kind === 'national_id'
      ? { value: null, value_hmac: nationalIdHmac(box, value) }
      : { value: normalizeIdentityValue(kind, value), value_hmac: null };

  const repo: PeopleRepository = {
    async createPerson(tenantId, input, opts) {
      const now = isoNow(opts?.now);
      const id = ctx.newId();
      const nationalId = input.national_id?.trim() ? protectNationalId(box, input.national_id, personNationalIdPlace(tenantId, id)) : null;
      const row: PeopleTable = {
        id,
        tenant_id: tenantId,
        display_name: input.display_name ?? null,
        date_of_birth: input.date_of_birth ?? null,
        national_id_ciphertext: nationalId?.ciphertext ?? null,
        national_id_hmac: nationalId?.hmac ?? null,
        created_at: now,
        updated_at: now,
        merged_into: null,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('people').values(row).execute();
        if (nationalId !== null) {
          await trx
            .insertInto('person_identities')
            .values({
              id: ctx.newId(),
              tenant_id: tenantId,
              person_id: row.id,
              kind: 'national_id',
              source_id: null,
              value: null,
              value_hmac: nationalId.hmac,
              matched_by: 'national_id',
              created_at: now,
            })
            .execute();
        }
      }).catch((err: unknown) => {
        if (isUniqueViolation(err)) throw new AppError('conflict', 'a person with this national id already exists', { cause: err });
        throw err;
      });
      return toPerson(row);
    },

    async getPerson(tenantId, personId) {
      const row = await db
        .selectFrom('people')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', personId)
        .executeTakeFirst();
      return row === undefined ? null : toPerson(row);
    },

    async getPersonNationalId(tenantId, personId) {
      const row = await db
        .selectFrom('people')
        .select('national_id_ciphertext')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', personId)
        .executeTakeFirst();
      if (row === undefined) throw new AppError('not_found', `person ${personId} not found`);
      return row.national_id_ciphertext === null ? null : box.decrypt(row.national_id_ciphertext, personNationalIdPlace(tenantId, personId));
    },

    async addIdentity(tenantId, personId, identity, opts) {
      const person = await db
        .selectFrom('people')
        .select('tenant_id')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', personId)
        .executeTakeFirst();
      if (person === undefined) throw new AppError('not_found', `person ${personId} not found`);
      if (identity.value.trim() === '') throw new AppError('invalid_request', `${identity.kind} identity needs a value`);
      const sourceId = identity.source_id ?? null;
      const columns = identityColumns(identity.kind, identity.value);

      const findExisting = () => {
        let q = db
          .selectFrom('person_identities')
          .selectAll()
          .where('tenant_id', '=', person.tenant_id)
          .where('kind', '=', identity.kind)
          .where('source_id', sourceId === null ? 'is' : '=', sourceId);
        q = columns.value_hmac === null ? q.where('value', '=', columns.value) : q.where('value_hmac', '=', columns.value_hmac);
        return q.execute();
      };

      const existing = (await findExisting()).find((r) => r.person_id === personId);
      if (existing !== undefined) return toIdentity(existing);
      const row: PersonIdentitiesTable = {
        id: ctx.newId(),
        tenant_id: person.tenant_id,
        person_id: personId,
        kind: identity.kind,
        source_id: sourceId,
        ...columns,
        matched_by: identity.matched_by,
        created_at: isoNow(opts?.now),
      };
      try {
        await db.insertInto('person_identities').values(row).execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const again = (await findExisting()).find((r) => r.person_id === personId);
        if (again !== undefined) return toIdentity(again);
        throw new AppError('conflict', `this ${identity.kind} identity already belongs to another person`, { cause: err });
      }
      if (identity.kind === 'national_id') {
        // The first national id matched to a person becomes the person's own (encrypted), for status checks by NIN.
        const nationalId = protectNationalId(box, identity.value, personNationalIdPlace(person.tenant_id, personId));
        await db
          .updateTable('people')
          .set({ national_id_ciphertext: nationalId.ciphertext, national_id_hmac: nationalId.hmac, updated_at: row.created_at })
          .where('id', '=', personId)
          .where('national_id_hmac', 'is', null)
          .execute();
      }
      return toIdentity(row);
    },

    async listIdentities(tenantId, personId) {
      const rows = await db
        .selectFrom('person_identities')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('person_id', '=', personId)
        .orderBy('id')
        .execute();
      return rows.map(toIdentity);
    },

    async findPeopleByIdentity(tenantId, kind, value, opts) {
      const columns = identityColumns(kind, value);
      let q = db
        .selectFrom('people')
        .selectAll('people')
        .where('people.tenant_id', '=', tenantId)
        .where((eb) => {
          let sub = eb
            .selectFrom('person_identities as pi')
            .select('pi.person_id')
            .where('pi.tenant_id', '=', tenantId)
            .where('pi.kind', '=', kind);
          sub =
            columns.value_hmac === null
              ? sub.where('pi.value', '=', columns.value)
              : sub.where('pi.value_hmac', '=', columns.value_hmac);
          const sourceId = opts?.sourceId;
          if (sourceId !== undefined) sub = sub.where('pi.source_id', sourceId === null ? 'is' : '=', sourceId);
          return eb('people.id', 'in', sub);
        });
      q = q.orderBy('people.id');
      return (await q.execute()).map(toPerson);
    },

    async findPeopleByIdentities(tenantId, kind, values, opts) {
      // Stored column value (normalized value or HMAC) -> the values asked for that map to it.
      const asked = new Map<string, string[]>();
      for (const value of values) {
        if (value.trim() === '') continue;
        const columns = identityColumns(kind, value);
        const key = columns.value_hmac ?? columns.value;
        const list = asked.get(key);
        if (list === undefined) asked.set(key, [value]);
        else if (!list.includes(value)) list.push(value);
      }
      const out = new Map<string, StoredPerson[]>();
      const column = kind === 'national_id' ? 'pi.value_hmac' : 'pi.value';
      for (const part of chunk([...asked.keys()], VALUES_PER_LIST)) {
        let q = db
          .selectFrom('person_identities as pi')
          .innerJoin('people', 'people.id', 'pi.person_id')
          .selectAll('people')
          .select(['pi.value as identity_value', 'pi.value_hmac as identity_hmac'])
          .where('pi.tenant_id', '=', tenantId)
          .where('people.tenant_id', '=', tenantId)
          .where('people.merged_into', 'is', null)
          .where('pi.kind', '=', kind)
          .where(column, 'in', part);
        const sourceId = opts?.sourceId;
        if (sourceId !== undefined) q = q.where('pi.source_id', sourceId === null ? 'is' : '=', sourceId);
        const rows = await q.orderBy('people.id').execute();
        for (const row of rows) {
          const { identity_value, identity_hmac, ...person } = row;
          for (const value of asked.get(identity_hmac ?? identity_value ?? '') ?? []) {
            const holders = out.get(value);
            const stored = toPerson(person);
            if (holders === undefined) out.set(value, [stored]);
            else if (!holders.some((p) => p.id === stored.id)) holders.push(stored);
          }
        }
      }
      return out;
    },

    async linkCertificateToPerson(tenantId, certificateId, personId, opts) {
      if (personId !== null && (await repo.getPerson(tenantId, personId)) === null) {
        throw new AppError('not_found', `person ${personId} not found`);
      }
      const current = await db
        .selectFrom('certificates')
        .select('person_id')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', certificateId)
        .executeTakeFirst();
      if (current === undefined) throw new AppError('not_found', `certificate ${certificateId} not found`);
      if (current.person_id === personId) return;
      // person_id is part of what readers see, so a (re)link moves updated_at like any other change.
      await db
        .updateTable('certificates')
        .set({ person_id: personId, updated_at: isoNow(opts?.now) })
        .where('id', '=', certificateId)
        .execute();
    },

    async listPeopleInIdOrder(tenantId, opts) {
      // Walked by primary key. SQLite without statistics would rather read the tenant's whole name index and sort it
      // for every page; a unary + keeps it from using an index for the tenant term.
      const tenantColumn = ctx.dialect === 'sqlite' ? sql<string>`+${sql.ref('p.tenant_id')}` : sql<string>`${sql.ref('p.tenant_id')}`;
      let q = db
        .selectFrom('people as p')
        .select(['p.id', 'p.display_name'])
        .where(tenantColumn, '=', tenantId)
        .where('p.merged_into', 'is', null);
      if (opts.after) q = q.where('p.id', '>', opts.after);
      if (opts.createdBy !== undefined) q = q.where('p.created_at', '<=', opts.createdBy);
      const text = opts.q?.trim();
      if (text) {
        const pattern = containsPattern(text);
        q = q.where((eb) =>
          eb.or([
            sql<boolean>`lower(${eb.ref('p.display_name')}) like ${pattern} escape '\\'`,
            eb.exists(
              eb
                .selectFrom('person_identities as pi')
                .select('pi.id')
                .whereRef('pi.person_id', '=', 'p.id')
                .where('pi.kind', '=', 'email')
                .where(sql<boolean>`${sql.ref('pi.value')} like ${pattern} escape '\\'`),
            ),
          ]),
        );
      }
      return q.orderBy('p.id').limit(opts.limit).execute();
    },

    async listPeopleNames(tenantId, personIds) {
      const out: PersonName[] = [];
      for (const ids of chunk([...new Set(personIds)], VALUES_PER_LIST)) {
        // The tenant is checked on the rows read (by primary key), not in SQL: see listCertificatesByIds.
        const rows = await db.selectFrom('people').select(['id', 'tenant_id', 'display_name']).where('id', 'in', ids).execute();
        for (const r of rows) if (r.tenant_id === tenantId) out.push({ id: r.id, display_name: r.display_name });
      }
      return out;
    },

    async primaryEmails(tenantId, personIds) {
      const emails = new Map<string, string>();
      for (const ids of chunk([...new Set(personIds)], VALUES_PER_LIST)) {
        const rows = await db
          .selectFrom('person_identities')
          .select(['person_id', 'tenant_id', 'value'])
          .where('kind', '=', 'email')
          .where('person_id', 'in', ids)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        // The tenant is checked here: in SQL, SQLite without statistics reads every email of the tenant instead.
        for (const r of rows) {
          if (r.tenant_id === tenantId && r.value !== null && !emails.has(r.person_id)) emails.set(r.person_id, r.value);
        }
      }
      return emails;
    },
  };
  return repo;
}
