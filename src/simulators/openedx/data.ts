/**
 * Open edX records, kept compact: LMS users and credentials are columns of numbers (indexes into
 * the catalog and the user table), strings only where they are identities (username, uuid).
 * A credential's `id` is its row + 1; a deleted row stays as a tombstone so ids never move.
 */
import type { World, WorldPerson } from '../common/world.ts';
import { generateCatalog, seededUuid, type Catalog } from './catalog.ts';

export interface Attribute {
  name: string;
  value: string;
}

export const STATUSES = ['awarded', 'revoked'] as const;
export type CredentialStatus = (typeof STATUSES)[number];
export const KIND_PROGRAM = 0;
export const KIND_RUN = 1;

export interface Users {
  username: string[];
  lmsUserId: number[];
  /** World person key; `lms-<lms_user_id>` for a learner that is not in the world. */
  personKey: string[];
  /** Index into world.people, or -1. */
  person: number[];
  /** Credential rows per user, ascending. */
  credentials: number[][];
  byUsername: Map<string, number>;
  byLmsId: Map<number, number>;
}

export interface Credentials {
  uuid: string[];
  user: number[];
  kind: number[];
  /** Program index (KIND_PROGRAM) or run index (KIND_RUN). */
  target: number[];
  /** Index into STATUSES. */
  status: number[];
  /** Microseconds since the epoch (DRF prints microseconds). */
  created: number[];
  modified: number[];
  /** Final grade in basis points (8700 = 0.87), -1 when the LMS sent none. Course runs only. */
  grade: number[];
  /** Shared, frozen lists: most credentials point at the same empty one. */
  attributes: (readonly Attribute[])[];
  deleted: boolean[];
  /** UserCredentialDateOverride.date in microseconds, -1 for none (the API's `date_override`). */
  dateOverride: number[];
  /**
   * Where the row sits in a list without ORDER BY: a seeded hash of its uuid, so rows come back in a stable order
   * that is not creation order (a new credential lands anywhere, a deleted one shifts every later row).
   */
  orderKey: number[];
  byUuid: Map<string, number>;
  /** Live rows in id order. */
  live: number[];
}

export interface OpenedxData {
  world: World;
  catalog: Catalog;
  users: Users;
  credentials: Credentials;
  /** Bumped by every change; list caches key on it. */
  version: number;
  nextLmsUserId: number;
  uuidRng: { next(): string };
  /** Seed of `orderKey`. */
  orderSeed: number;
}

/**
 * The list's row order. Upstream's CredentialViewSet.get_queryset is `UserCredential.objects.all()` filtered by
 * site, with no ORDER BY (credentials/apps/api/v2/views.py): the database picks. `unordered` models that with a
 * stable seeded order; `id` is the order of creation.
 */
export type ListOrder = 'id' | 'unordered';

export interface CredentialFilter {
  username?: string;
  status?: number;
  program?: number | null;
  kind?: number;
}

const DAY_US = 86_400_000_000;
const NO_ATTRIBUTES: readonly Attribute[] = Object.freeze([]);
const WHITELIST_REASONS = ['Granted by the program team after review.', 'Completed the program before the certificate was introduced.', 'Exception approved by the course team.'];
const WHITELIST: readonly (readonly Attribute[])[] = WHITELIST_REASONS.map((value) => Object.freeze([Object.freeze({ name: 'whitelist_reason', value })]));

export function asOfMs(world: World): number {
  return Date.parse(`${world.options.asOf}T00:00:00Z`);
}

/** The username the sandbox LMS gives a person: their email as Open edX spells it, trimmed. */
export function usernameFor(world: World, person: WorldPerson): string {
  return world.emailFor(person, 'openedx').trim();
}

export function generateOpenedxData(world: World): OpenedxData {
  const rng = world.rng.fork('openedx');
  const asOf = asOfMs(world);
  const catalog = generateCatalog(rng.fork('catalog'), asOf);
  const users: Users = { username: [], lmsUserId: [], personKey: [], person: [], credentials: [], byUsername: new Map(), byLmsId: new Map() };
  const cr: Credentials = { uuid: [], user: [], kind: [], target: [], status: [], created: [], modified: [], grade: [], attributes: [], deleted: [], dateOverride: [], orderKey: [], byUuid: new Map(), live: [] };
  const credRng = rng.fork('credentials');
  const uuidStream = rng.fork('uuids');
  const orderSeed = rng.fork('order').int(1, 0x7fff_ffff);
  const data: OpenedxData = { world, catalog, users, credentials: cr, version: 0, nextLmsUserId: 0, uuidRng: { next: () => seededUuid(uuidStream) }, orderSeed };
  // Runs that had started by asOf can have certificates; future runs are in the catalog only.
  const startedRuns = catalog.runs.flatMap((r, i) => (r.startMs < asOf ? [i] : []));
  const asOfUs = asOf * 1000;
  let lmsId = credRng.int(3, 40);
  const pending: { user: number; kind: number; target: number; created: number }[] = [];
  for (const person of world.byProvider('openedx')) {
    const u = addUser(data, usernameFor(world, person), lmsId, person.key, person.index);
    lmsId += credRng.int(1, 25);
    const count = credRng.int(1, 6);
    const taken = new Set<number>();
    for (let k = 0; k < count; k++) {
      const program = credRng.chance(0.2);
      const kind = program ? KIND_PROGRAM : KIND_RUN;
      const target = program ? credRng.int(0, catalog.programs.length - 1) : (credRng.pick(startedRuns));
      const slot = kind * 100_000 + target;
      if (taken.has(slot)) continue; // one credential per learner and program / run, as upstream
      taken.add(slot);
      let created: number;
      if (kind === KIND_RUN) {
        const run = catalog.runs[target];
        const from = Math.max((run?.startMs ?? asOf) + 7 * 86_400_000, asOf - 6 * 365 * 86_400_000) * 1000;
        const to = Math.min(((run?.endMs ?? asOf) + 120 * 86_400_000) * 1000, asOfUs - 3_600_000_000);
        created = from >= to ? to : from + Math.floor(credRng.next() * (to - from));
      } else {
        // Programs take a year or more: their credentials come after the first course runs.
        created = asOfUs - Math.floor(credRng.next() * 3 * 365 * DAY_US) - DAY_US;
      }
      // About 2% of rows were written by a script at a whole second: DRF then prints no fraction.
      if (credRng.chance(0.02)) created -= created % 1_000_000;
      pending.push({ user: u, kind, target, created });
    }
  }
  // Rows get ids in order of creation, as a database would give them.
  pending.sort((a, b) => a.created - b.created);
  for (const p of pending) {
    const revoked = credRng.chance(0.07);
    // Revoked rows were saved again later; a few awarded ones too (re-issued, attributes changed).
    const touched = revoked || credRng.chance(0.1);
    const modified = touched ? Math.min(p.created + Math.floor(credRng.next() * 400 * DAY_US), asOfUs - 60_000_000) : p.created;
    const grade = p.kind === KIND_RUN && !credRng.chance(0.08) ? credRng.int(60, 100) * 100 : -1;
    const attributes = p.kind === KIND_PROGRAM && credRng.chance(0.06) ? credRng.pick(WHITELIST) : NO_ATTRIBUTES;
    addCredential(data, { user: p.user, kind: p.kind, target: p.target, status: revoked ? 1 : 0, created: p.created, modified: Math.max(modified, p.created), grade, attributes });
  }
  data.nextLmsUserId = lmsId;
  return data;
}

export function addUser(data: OpenedxData, username: string, lmsUserId: number, personKey: string, person: number): number {
  const u = data.users;
  const i = u.username.push(username) - 1;
  u.lmsUserId.push(lmsUserId);
  u.personKey.push(personKey);
  u.person.push(person);
  u.credentials.push([]);
  u.byUsername.set(username, i);
  u.byLmsId.set(lmsUserId, i);
  data.nextLmsUserId = Math.max(data.nextLmsUserId, lmsUserId + 1);
  data.version++;
  return i;
}

export interface NewCredential {
  user: number;
  kind: number;
  target: number;
  status: number;
  created: number;
  modified: number;
  grade: number;
  attributes: readonly Attribute[];
  uuid?: string;
}

export function addCredential(data: OpenedxData, c: NewCredential): number {
  const t = data.credentials;
  const uuid = c.uuid ?? data.uuidRng.next();
  const row = t.uuid.push(uuid) - 1;
  t.user.push(c.user);
  t.kind.push(c.kind);
  t.target.push(c.target);
  t.status.push(c.status);
  t.created.push(c.created);
  t.modified.push(c.modified);
  t.grade.push(c.grade);
  t.attributes.push(c.attributes.length === 0 ? NO_ATTRIBUTES : c.attributes);
  t.deleted.push(false);
  t.dateOverride.push(-1);
  t.orderKey.push(orderHash(uuid, data.orderSeed));
  t.byUuid.set(uuid, row);
  t.live.push(row);
  data.users.credentials[c.user]?.push(row);
  data.version++;
  return row;
}

/** FNV-1a of the uuid, seeded: a fixed, arbitrary position per credential. */
function orderHash(uuid: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < uuid.length; i++) h = Math.imul(h ^ uuid.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Rows in the list's order (a new array). */
export function inListOrder(data: OpenedxData, rows: readonly number[], order: ListOrder): readonly number[] {
  if (order === 'id') return rows;
  const key = data.credentials.orderKey;
  return [...rows].sort((a, b) => (key[a] as number) - (key[b] as number) || a - b);
}

/** Removes a credential outright (the API then answers 404 for it and lists it no more). */
export function deleteCredential(data: OpenedxData, row: number): void {
  const t = data.credentials;
  t.deleted[row] = true;
  t.byUuid.delete(t.uuid[row] as string);
  const at = lowerBound(t.live, row);
  if (t.live[at] === row) t.live.splice(at, 1);
  const own = data.users.credentials[t.user[row] as number];
  if (own) {
    const i = own.indexOf(row);
    if (i >= 0) own.splice(i, 1);
  }
  data.version++;
}

export function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The live credential of a user for a program / run, or -1. */
export function findUserCredential(data: OpenedxData, user: number, kind: number, target: number): number {
  const t = data.credentials;
  for (const row of data.users.credentials[user] ?? []) if (t.kind[row] === kind && t.target[row] === target) return row;
  return -1;
}

/**
 * Rows matching the list filters, in id order. `program` follows upstream's ProgramRelatedFilter:
 * the program's own credentials plus course-run credentials for runs of the program's courses;
 * null (a program_uuid that is malformed or unknown) matches nothing.
 */
export function selectCredentials(data: OpenedxData, f: CredentialFilter): readonly number[] {
  const t = data.credentials;
  const base = f.username !== undefined ? (data.users.credentials[data.users.byUsername.get(f.username) ?? -1] ?? []) : t.live;
  if (f.status === undefined && f.program === undefined && f.kind === undefined) return base;
  if (f.program === null) return [];
  const program = f.program === undefined ? undefined : data.catalog.programs[f.program];
  return base.filter((row) => {
    if (f.status !== undefined && t.status[row] !== f.status) return false;
    if (f.kind !== undefined && t.kind[row] !== f.kind) return false;
    if (program && f.program !== undefined) {
      const target = t.target[row] as number;
      return t.kind[row] === KIND_PROGRAM ? target === f.program : program.runSet.has(target);
    }
    return true;
  });
}
