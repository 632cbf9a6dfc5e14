/**
 * What person resolution needs from storage, and nothing more. The store implements it on the page's transaction
 * (store/identity-port.ts), so the store stays the one writer of the people tables and resolution never sees SQL.
 */
import type { IdentityKind } from '../domain/person.ts';
import type { KnownPerson, NewPerson, NewPersonIdentity, PersonPatch, ResolutionPlan } from './plan.ts';

/** The keys of a page to look up, as person_identities stores them (national ids by HMAC). */
export interface IdentityLookup {
  emails: readonly string[];
  nationalIdHmacs: readonly string[];
  /** Provider user ids of the page's source. */
  providerUserIds: readonly string[];
  nameDobs: readonly string[];
}

/** An identity the store holds. */
export interface KnownIdentity {
  person_id: string;
  kind: IdentityKind;
  source_id: string | null;
  value: string | null;
  value_hmac: string | null;
}

export interface IdentityPort {
  /** The tenant's identities holding any of the keys (provider user ids within `sourceId`), in no set order. */
  findIdentities(tenantId: string, sourceId: string, lookup: IdentityLookup): Promise<KnownIdentity[]>;
  /** The tenant's people among `ids`, merged-away ones too (with whom they were merged into); unknown ids left out. */
  findPeople(tenantId: string, ids: readonly string[]): Promise<(KnownPerson & { merged_into: string | null })[]>;
  createPeople(tenantId: string, people: readonly NewPerson[], now: string): Promise<void>;
  /** Fills what each person lacks (date of birth, national id); a value already there is left as it is. */
  fillPeople(patches: ReadonlyMap<string, PersonPatch>, now: string): Promise<void>;
  /** person id -> name: sets the name of those of the tenant's people who have none. */
  fillMissingNames(tenantId: string, names: ReadonlyMap<string, string>, now: string): Promise<void>;
  /** A key already held by another person fails the page's transaction (a unique violation, so the page is saved again). */
  addIdentities(tenantId: string, identities: readonly NewPersonIdentity[], now: string): Promise<void>;
  /** A pair already suggested for the same reason is left as it is, whatever its status. */
  addSuggestions(tenantId: string, suggestions: ResolutionPlan['suggestions'], now: string): Promise<void>;
}
