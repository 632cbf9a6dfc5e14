/**
 * Identity on ingest: the PersonResolver the sync engine hands to savePage. It runs inside the page's transaction, so a
 * saved certificate is always linked; it reads what the store knows about the page's keys in a handful of batched
 * queries (whatever the page size), plans in memory (plan.ts), and writes the plan in multi-row statements.
 */
import type { Transaction } from 'kysely';
import { identityKeys, normalizeDateOfBirth } from '../domain/identity.ts';
import {
  chunk,
  createIdGenerator,
  insertSuggestions,
  ROWS_PER_STATEMENT,
  VALUES_PER_LIST,
  type Database,
  type PageSubject,
  type PersonResolver,
  type PersonResolverInput,
} from '../store/index.ts';
import { emptyIndex, planResolution, type IdentityIndex, type PlanItem, type StrongKey, type SubjectKeys } from './plan.ts';

type Trx = Transaction<Database>;

/** The subject's keys as person_identities stores them (national id by the HMAC the store computed). */
export function subjectKeys(subject: PageSubject, page: Pick<PersonResolverInput, 'provider' | 'sourceId'>): SubjectKeys {
  const cert = subject.certificate;
  const keys = identityKeys(cert.subject, page.provider, page.sourceId);
  const strong: StrongKey[] = [];
  let nationalId: SubjectKeys['nationalId'] = null;
  let nameDob: string | null = null;
  for (const key of keys) {
    switch (key.kind) {
      case 'national_id':
        // identityKeys only offers a national id that passes its checks; the store's HMAC is of the same digits.
        if (subject.national_id_hmac !== null && subject.national_id_ciphertext !== null) {
          nationalId = { hmac: subject.national_id_hmac, ciphertext: subject.national_id_ciphertext };
          strong.push({
            kind: 'national_id',
            key: `national_id|${subject.national_id_hmac}`,
            source_id: null,
            value: null,
            value_hmac: subject.national_id_hmac,
          });
        }
        break;
      case 'email':
        strong.push({ kind: 'email', key: `email|${key.value}`, source_id: null, value: key.value, value_hmac: null });
        break;
      case 'provider_user':
        strong.push({
          kind: 'provider_user',
          key: `provider_user|${key.source_id ?? ''}|${key.value}`,
          source_id: key.source_id,
          value: key.value,
          value_hmac: null,
        });
        break;
      case 'name_dob':
        nameDob = key.value;
        break;
    }
  }
  const name = [cert.subject.first_name, cert.subject.last_name]
    .map((n) => n?.trim() ?? '')
    .filter((n) => n !== '')
    .join(' ');
  return {
    strong,
    nationalId,
    nameDob,
    dateOfBirth: normalizeDateOfBirth(cert.subject.date_of_birth),
    displayName: name === '' ? null : name,
  };
}

async function loadIndex(
  trx: Trx,
  tenantId: string,
  sourceId: string,
  items: readonly PlanItem[],
): Promise<{ index: IdentityIndex; survivors: Map<string, string> }> {
  const index = emptyIndex();
  const emails = new Set<string>();
  const hmacs = new Set<string>();
  const providerUsers = new Set<string>();
  const nameDobs = new Set<string>();
  const personIds = new Set<string>();
  for (const { keys, person_id } of items) {
    if (person_id !== null) personIds.add(person_id);
    if (keys.nameDob !== null) nameDobs.add(keys.nameDob);
    for (const key of keys.strong) {
      if (key.kind === 'email' && key.value !== null) emails.add(key.value);
      if (key.kind === 'national_id' && key.value_hmac !== null) hmacs.add(key.value_hmac);
      if (key.kind === 'provider_user' && key.value !== null) providerUsers.add(key.value);
    }
  }

  const identities = trx
    .selectFrom('person_identities')
    .select(['person_id', 'kind', 'source_id', 'value', 'value_hmac'])
    .where('tenant_id', '=', tenantId);
  const found: { person_id: string; kind: string; source_id: string | null; value: string | null; value_hmac: string | null }[] =
    [];
  for (const part of chunk([...emails], VALUES_PER_LIST)) {
    found.push(...(await identities.where('kind', '=', 'email').where('value', 'in', part).execute()));
  }
  for (const part of chunk([...hmacs], VALUES_PER_LIST)) {
    found.push(...(await identities.where('kind', '=', 'national_id').where('value_hmac', 'in', part).execute()));
  }
  for (const part of chunk([...providerUsers], VALUES_PER_LIST)) {
    found.push(
      ...(await identities
        .where('kind', '=', 'provider_user')
        .where('source_id', '=', sourceId)
        .where('value', 'in', part)
        .execute()),
    );
  }
  for (const part of chunk([...nameDobs], VALUES_PER_LIST)) {
    found.push(...(await identities.where('kind', '=', 'name_dob').where('value', 'in', part).execute()));
  }

  for (const row of found) personIds.add(row.person_id);
  const survivors = await loadPeople(trx, tenantId, personIds, index);
  const live = (id: string) => survivors.get(id) ?? id;

  for (const row of found) {
    const personId = live(row.person_id);
    if (row.kind === 'name_dob' && row.value !== null) {
      let holders = index.nameDob.get(row.value);
      if (holders === undefined) index.nameDob.set(row.value, (holders = new Set()));
      holders.add(personId);
    } else if (row.kind === 'national_id') {
      index.owners.set(`national_id|${row.value_hmac ?? ''}`, personId);
    } else if (row.kind === 'provider_user') {
      index.owners.set(`provider_user|${row.source_id ?? ''}|${row.value ?? ''}`, personId);
    } else {
      index.owners.set(`${row.kind}|${row.value ?? ''}`, personId);
    }
  }
  return { index, survivors };
}

/** Most merges a chain of merged-away people is followed through (a merge into someone later merged away, ...). */
const MAX_MERGE_CHAIN = 20;

/**
 * Loads the people into the index. A person merged into another (merges.ts) never gets a certificate: an identity or
 * link still pointing at them (a sync that raced the merge) counts for the person they were merged into. Returns
 * merged-away id -> surviving id.
 */
async function loadPeople(trx: Trx, tenantId: string, ids: ReadonlySet<string>, index: IdentityIndex): Promise<Map<string, string>> {
  const mergedInto = new Map<string, string>();
  let pending = [...ids];
  for (let depth = 0; pending.length > 0 && depth <= MAX_MERGE_CHAIN; depth++) {
    const next: string[] = [];
    for (const part of chunk(pending, VALUES_PER_LIST)) {
      const people = await trx
        .selectFrom('people')
        .select(['id', 'date_of_birth', 'national_id_hmac', 'merged_into'])
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', part)
        .execute();
      for (const { merged_into, ...p } of people) {
        if (merged_into === null) {
          index.people.set(p.id, p);
        } else {
          mergedInto.set(p.id, merged_into);
          if (!index.people.has(merged_into) && !mergedInto.has(merged_into)) next.push(merged_into);
        }
      }
    }
    pending = [...new Set(next)];
  }
  const survivors = new Map<string, string>();
  for (const id of mergedInto.keys()) {
    let at = id;
    for (let hops = 0; hops <= MAX_MERGE_CHAIN && mergedInto.has(at); hops++) at = mergedInto.get(at)!;
    // A chain that does not end in a live person (a cycle, or too long) leaves the id out of the index.
    if (index.people.has(at)) survivors.set(id, at);
  }
  return survivors;
}

/**
 * A person first seen without a name (Springest gives only an email) takes the first name a later certificate of
 * theirs carries, so lists and search show who they are. Only fills what is missing.
 */
async function fillMissingNames(
  trx: Trx,
  tenantId: string,
  items: readonly PlanItem[],
  links: ReadonlyMap<string, string>,
  now: string,
): Promise<void> {
  const names = new Map<string, string>();
  for (const item of items) {
    const personId = links.get(item.external_id);
    const name = item.keys.displayName;
    if (personId !== undefined && name !== null && !names.has(personId)) names.set(personId, name);
  }
  if (names.size === 0) return;
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
}

/**
 * Builds the resolver savePage runs in its transaction. Certificates already linked whose payload did not change are
 * left alone (a re-run of an unchanged source does no identity work); new, changed and unlinked ones are resolved.
 */
export function createPersonResolver(opts: { newId?: () => string } = {}): PersonResolver {
  const newId = opts.newId ?? createIdGenerator();
  return async (trx, page) => {
    const items: PlanItem[] = page.certificates
      .filter((c) => c.person_id === null || c.outcome !== 'unchanged')
      .map((c) => ({ external_id: c.external_id, keys: subjectKeys(c, page), person_id: c.person_id }));
    if (items.length === 0) return new Map();

    const { index, survivors } = await loadIndex(trx, page.tenantId, page.sourceId, items);
    // A certificate still linked to a merged-away person belongs to the person it was merged into.
    const current = items.map((item) => ({ ...item, person_id: item.person_id === null ? null : (survivors.get(item.person_id) ?? item.person_id) }));
    const plan = planResolution(current, index, newId);
    const now = page.now;

    const people = plan.newPeople.map((p) => ({
      id: p.id,
      tenant_id: page.tenantId,
      display_name: p.display_name,
      date_of_birth: p.date_of_birth,
      national_id_ciphertext: p.national_id?.ciphertext ?? null,
      national_id_hmac: p.national_id?.hmac ?? null,
      created_at: now,
      updated_at: now,
    }));
    for (const part of chunk(people, ROWS_PER_STATEMENT)) await trx.insertInto('people').values(part).execute();

    for (const [personId, change] of plan.personPatches) {
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
        await trx
          .updateTable('people')
          .set({
            national_id_hmac: change.national_id.hmac,
            national_id_ciphertext: change.national_id.ciphertext,
            updated_at: now,
          })
          .where('id', '=', personId)
          .where('national_id_hmac', 'is', null)
          .execute();
      }
    }

    await fillMissingNames(trx, page.tenantId, current, plan.links, now);

    const identities = plan.identities.map((i) => ({ id: newId(), tenant_id: page.tenantId, ...i, created_at: now }));
    // A unique violation here means another process linked the same key meanwhile: the page's transaction fails
    // and the engine saves the page again, now seeing that person.
    for (const part of chunk(identities, ROWS_PER_STATEMENT)) await trx.insertInto('person_identities').values(part).execute();

    await insertSuggestions(
      trx,
      newId,
      plan.suggestions.map((s) => ({ tenant_id: page.tenantId, ...s })),
      now,
    );
    return plan.links;
  };
}
