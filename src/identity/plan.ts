/**
 * Person resolution as a pure function: given the certificates of a page (their identity keys) and what the store
 * already knows about those keys, decide which person each certificate belongs to, which people and identities to
 * create, and which pairs to suggest as possibly one person. No I/O: resolver.ts loads the index and writes the plan.
 *
 * The rules:
 * - strong keys (national id, normalized email, provider user id within its source) link automatically;
 * - never link to a person whose date of birth or national id differs from the certificate's: a strong key pointing at
 *   such a person is not used (a new person is made) and the pair is suggested with the conflict as the reason;
 * - name + date of birth alone never links; it only suggests;
 * - a certificate already linked stays with its person while that person remains compatible with it and the
 *   subject's keys do not all point at another person.
 */
import type { MatchedBy } from '../domain/person.ts';
import type { SuggestionReason } from '../store/index.ts';

export type StrongKind = 'national_id' | 'email' | 'provider_user';

export interface StrongKey {
  kind: StrongKind;
  /** Index key: kind + scope + value (HMAC for national ids). */
  key: string;
  /** The column values person_identities stores. */
  source_id: string | null;
  value: string | null;
  value_hmac: string | null;
}

/** What a certificate's subject offers for matching, already normalized. */
export interface SubjectKeys {
  /** Strongest first: national id, email, provider user. */
  strong: StrongKey[];
  /** A matchable national id (HMAC + ciphertext as the store keeps them), or null. */
  nationalId: { hmac: string; ciphertext: string } | null;
  /** `normalized name|YYYY-MM-DD`, or null. */
  nameDob: string | null;
  dateOfBirth: string | null;
  displayName: string | null;
}

export interface PlanItem {
  external_id: string;
  keys: SubjectKeys;
  /** Its current person, or null. */
  person_id: string | null;
}

export interface KnownPerson {
  id: string;
  date_of_birth: string | null;
  national_id_hmac: string | null;
}

/** What the store holds for the keys of the page; planResolution updates it as it goes (a page can repeat a person). */
export interface IdentityIndex {
  people: Map<string, KnownPerson>;
  /** Strong key (StrongKey.key) -> the person holding it. */
  owners: Map<string, string>;
  /** name_dob value -> people holding it. */
  nameDob: Map<string, Set<string>>;
}

export interface NewPerson {
  id: string;
  display_name: string | null;
  date_of_birth: string | null;
  national_id: { hmac: string; ciphertext: string } | null;
}

export interface NewPersonIdentity {
  person_id: string;
  kind: StrongKind | 'name_dob';
  source_id: string | null;
  value: string | null;
  value_hmac: string | null;
  matched_by: MatchedBy;
}

export interface PersonPatch {
  date_of_birth?: string;
  national_id?: { hmac: string; ciphertext: string };
}

export interface ResolutionPlan {
  newPeople: NewPerson[];
  /** Facts learned about existing people (only ever filling what they lack). */
  personPatches: Map<string, PersonPatch>;
  identities: NewPersonIdentity[];
  suggestions: { person_a: string; person_b: string; reason: SuggestionReason }[];
  /** external_id -> person id, for every item planned. */
  links: Map<string, string>;
}

export function emptyIndex(): IdentityIndex {
  return { people: new Map(), owners: new Map(), nameDob: new Map() };
}

function conflictWith(person: KnownPerson, keys: SubjectKeys): 'conflicting_dob' | 'conflicting_national_id' | null {
  const nin = keys.nationalId?.hmac ?? null;
  if (nin !== null && person.national_id_hmac !== null && nin !== person.national_id_hmac) return 'conflicting_national_id';
  if (keys.dateOfBirth !== null && person.date_of_birth !== null && keys.dateOfBirth !== person.date_of_birth) {
    return 'conflicting_dob';
  }
  return null;
}

export function planResolution(items: readonly PlanItem[], index: IdentityIndex, newId: () => string): ResolutionPlan {
  const plan: ResolutionPlan = { newPeople: [], personPatches: new Map(), identities: [], suggestions: [], links: new Map() };
  const created = new Set<string>();

  const patch = (person: KnownPerson, change: PersonPatch) => {
    if (created.has(person.id)) {
      const row = plan.newPeople.find((p) => p.id === person.id);
      if (row !== undefined && change.date_of_birth !== undefined) row.date_of_birth = change.date_of_birth;
      if (row !== undefined && change.national_id !== undefined) row.national_id = change.national_id;
      return;
    }
    plan.personPatches.set(person.id, { ...plan.personPatches.get(person.id), ...change });
  };

  for (const item of items) {
    const { keys } = item;
    const candidates: { personId: string; by: MatchedBy | null }[] = [];
    const owners = keys.strong.map((k) => index.owners.get(k.key));
    const current = item.person_id !== null && index.people.has(item.person_id) ? item.person_id : null;
    // The current link comes first unless the subject's keys now all point at someone else (the provider corrected
    // whose certificate it is): then it is only the fallback.
    const keepCurrent = current !== null && (owners.includes(current) || owners.every((o) => o === undefined || o === current));
    if (current !== null && keepCurrent) candidates.push({ personId: current, by: null });
    keys.strong.forEach((key, i) => {
      const owner = owners[i];
      if (owner !== undefined) candidates.push({ personId: owner, by: key.kind });
    });
    if (current !== null && !keepCurrent) candidates.push({ personId: current, by: null });
    const chosen = candidates.find((c) => {
      const person = index.people.get(c.personId);
      return person !== undefined && conflictWith(person, keys) === null;
    });

    let person: KnownPerson;
    let matchedBy: MatchedBy;
    if (chosen === undefined) {
      const nin = keys.nationalId !== null && !index.owners.has(`national_id|${keys.nationalId.hmac}`) ? keys.nationalId : null;
      person = { id: newId(), date_of_birth: keys.dateOfBirth, national_id_hmac: nin?.hmac ?? null };
      index.people.set(person.id, person);
      created.add(person.id);
      plan.newPeople.push({
        id: person.id,
        display_name: keys.displayName,
        date_of_birth: keys.dateOfBirth,
        national_id: nin,
      });
      matchedBy = 'created';
    } else {
      person = index.people.get(chosen.personId)!;
      matchedBy = chosen.by ?? keys.strong.find((k) => index.owners.get(k.key) === person.id)?.kind ?? 'created';
    }
    plan.links.set(item.external_id, person.id);

    for (const key of keys.strong) {
      const owner = index.owners.get(key.key);
      if (owner === undefined) {
        index.owners.set(key.key, person.id);
        plan.identities.push({
          person_id: person.id,
          kind: key.kind,
          source_id: key.source_id,
          value: key.value,
          value_hmac: key.value_hmac,
          matched_by: matchedBy,
        });
        if (key.kind === 'national_id' && person.national_id_hmac === null && keys.nationalId !== null) {
          person.national_id_hmac = keys.nationalId.hmac;
          patch(person, { national_id: keys.nationalId });
        }
      } else if (owner !== person.id) {
        // The key belongs to someone else: never moved, never merged; a person can decide.
        const other = index.people.get(owner);
        const reason = (other === undefined ? null : conflictWith(other, keys)) ?? (`shared_${key.kind}` as const);
        plan.suggestions.push({ person_a: person.id, person_b: owner, reason });
      }
    }

    if (keys.dateOfBirth !== null && person.date_of_birth === null) {
      person.date_of_birth = keys.dateOfBirth;
      patch(person, { date_of_birth: keys.dateOfBirth });
    }

    if (keys.nameDob !== null) {
      let holders = index.nameDob.get(keys.nameDob);
      if (holders === undefined) {
        holders = new Set();
        index.nameDob.set(keys.nameDob, holders);
      }
      if (!holders.has(person.id)) {
        plan.identities.push({
          person_id: person.id,
          kind: 'name_dob',
          source_id: null,
          value: keys.nameDob,
          value_hmac: null,
          matched_by: matchedBy,
        });
        for (const otherId of holders) {
          const other = index.people.get(otherId);
          // Two different national ids are two different people: nothing to suggest.
          if (other?.national_id_hmac != null && person.national_id_hmac !== null) continue;
          plan.suggestions.push({ person_a: person.id, person_b: otherId, reason: 'same_name_dob' });
        }
        holders.add(person.id);
      }
    }
  }
  return plan;
}
