/**
 * Identity on ingest: the PersonResolver the sync engine hands to savePage. It runs inside the page's transaction, so a
 * saved certificate is always linked; it asks the store (through the identity port, port.ts) what it knows about the
 * page's keys in a handful of batched reads (whatever the page size), plans in memory (plan.ts), and has the store
 * write the plan.
 */
import { identityKeys, normalizeDateOfBirth } from '../domain/identity.ts';
import { findProvider } from '../providers/registry.ts';
import { createIdGenerator, type PageSubject, type PersonResolver, type PersonResolverInput } from '../store/index.ts';
import { emptyIndex, planResolution, type IdentityIndex, type PlanItem, type StrongKey, type SubjectKeys } from './plan.ts';
import type { IdentityPort } from './port.ts';

/** The subject's keys as person_identities stores them (national id by the HMAC the store computed). */
export function subjectKeys(subject: PageSubject, page: Pick<PersonResolverInput, 'provider' | 'sourceId'>): SubjectKeys {
  const cert = subject.certificate;
  const keys = identityKeys(cert.subject, findProvider(page.provider) ?? {}, page.sourceId);
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
  identities: IdentityPort,
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

  const found = await identities.findIdentities(tenantId, sourceId, {
    emails: [...emails],
    nationalIdHmacs: [...hmacs],
    providerUserIds: [...providerUsers],
    nameDobs: [...nameDobs],
  });

  for (const row of found) personIds.add(row.person_id);
  const survivors = await loadPeople(identities, tenantId, personIds, index);
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
async function loadPeople(
  identities: IdentityPort,
  tenantId: string,
  ids: ReadonlySet<string>,
  index: IdentityIndex,
): Promise<Map<string, string>> {
  const mergedInto = new Map<string, string>();
  let pending = [...ids];
  for (let depth = 0; pending.length > 0 && depth <= MAX_MERGE_CHAIN; depth++) {
    const next: string[] = [];
    for (const { merged_into, ...p } of await identities.findPeople(tenantId, pending)) {
      if (merged_into === null) {
        index.people.set(p.id, p);
      } else {
        mergedInto.set(p.id, merged_into);
        if (!index.people.has(merged_into) && !mergedInto.has(merged_into)) next.push(merged_into);
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
 * theirs carries, so lists and search show who they are. Only fills what is missing: person id -> that name.
 */
function firstNames(items: readonly PlanItem[], links: ReadonlyMap<string, string>): Map<string, string> {
  const names = new Map<string, string>();
  for (const item of items) {
    const personId = links.get(item.external_id);
    const name = item.keys.displayName;
    if (personId !== undefined && name !== null && !names.has(personId)) names.set(personId, name);
  }
  return names;
}

/**
 * Builds the resolver savePage runs in its transaction. Certificates already linked whose payload did not change are
 * left alone (a re-run of an unchanged source does no identity work); new, changed and unlinked ones are resolved.
 */
export function createPersonResolver(opts: { newId?: () => string } = {}): PersonResolver {
  const newId = opts.newId ?? createIdGenerator();
  return async (identities, page) => {
    const items: PlanItem[] = page.certificates
      .filter((c) => c.person_id === null || c.outcome !== 'unchanged')
      .map((c) => ({ external_id: c.external_id, keys: subjectKeys(c, page), person_id: c.person_id }));
    if (items.length === 0) return new Map();

    const { index, survivors } = await loadIndex(identities, page.tenantId, page.sourceId, items);
    // A certificate still linked to a merged-away person belongs to the person it was merged into.
    const current = items.map((item) => ({ ...item, person_id: item.person_id === null ? null : (survivors.get(item.person_id) ?? item.person_id) }));
    const plan = planResolution(current, index, newId);
    const now = page.now;

    await identities.createPeople(page.tenantId, plan.newPeople, now);
    await identities.fillPeople(plan.personPatches, now);
    await identities.fillMissingNames(page.tenantId, firstNames(current, plan.links), now);
    // A unique violation here means another process linked the same key meanwhile: the page's transaction fails
    // and the engine saves the page again, now seeing that person.
    await identities.addIdentities(page.tenantId, plan.identities, now);
    await identities.addSuggestions(page.tenantId, plan.suggestions, now);
    return plan.links;
  };
}
