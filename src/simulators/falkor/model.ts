/**
 * Falkor's records, per account, kept compact: certificates are typed-array columns (grown by
 * doubling) of indexes into the account's stories and learners, an epoch-ms timestamp and a state
 * byte; JSON is built only when served (present.ts). A certificate's opaque permalink id is a keyed
 * permutation of its row number, so no id strings are stored and a permalink resolves without a map.
 */
import type { Rng } from '../common/prng.ts';
import { grown } from '../common/columns.ts';

/**
 * The doc's table says `story.type` is "Enum (story, assessment, survey, scorm)", its example prints
 * `"type": "Story"`: served capitalized like the example (SCORM, being an acronym, in capitals).
 */
export const STORY_TYPES = ['Story', 'Assessment', 'Survey', 'SCORM'] as const;
export type StoryType = (typeof STORY_TYPES)[number];

/** "certificate.state Enum (pending, delivered)"; the column holds the index. */
export const STATES = ['delivered', 'pending'] as const;
export type FalkorState = (typeof STATES)[number];
export const DELIVERED = 0;
export const PENDING = 1;

export interface FalkorApp {
  id: string;
  name: string;
}

export interface FalkorStory {
  /** NOT unique: the doc's example gives two stories one ID, and so does every generated account. */
  id: string;
  name: string;
  type: StoryType;
  /** Index into FalkorAccount.apps. */
  app: number;
}

export interface FalkorLearner {
  firstname: string;
  lastname: string;
  /** As Falkor spells it (world.emailFor, or as given to a control route): never normalized. */
  email: string;
  /** Often `""`, as in the doc's example. */
  telephone: string;
  country: string;
  city: string;
  /** Bit i set = member of FalkorAccount.groups[i]. */
  groups: number;
  /** The world person behind the learner, or `new:<email>` for someone the world does not know. */
  personKey: string;
}


export class CertificateTable {
  length = 0;
  /** Index into FalkorAccount.stories. */
  story = new Uint16Array(0);
  /** Index into FalkorAccount.people. */
  learner = new Int32Array(0);
  /** Epoch ms, whole seconds (Falkor prints seconds). */
  timestamp = new Float64Array(0);
  /** Index into STATES. */
  state = new Uint8Array(0);
  removed = new Uint8Array(0);
  /** Last change (generation, control route), epoch ms. Not served: Falkor has no modified field. */
  changedAt = new Float64Array(0);

  add(row: { story: number; learner: number; timestamp: number; state: number; changedAt: number }): number {
    const i = this.length++;
    this.story = grown(this.story, this.length);
    this.learner = grown(this.learner, this.length);
    this.timestamp = grown(this.timestamp, this.length);
    this.state = grown(this.state, this.length);
    this.removed = grown(this.removed, this.length);
    this.changedAt = grown(this.changedAt, this.length);
    this.story[i] = row.story;
    this.learner[i] = row.learner;
    this.timestamp[i] = row.timestamp;
    this.state[i] = row.state;
    this.removed[i] = 0;
    this.changedAt[i] = row.changedAt;
    return i;
  }
}

/** Row number <-> opaque 12-hex-digit id: a 4-round Feistel permutation of 48 bits, keyed per account. */
export interface UidCodec {
  encode(row: number): string;
  /** The row, or -1 when `uid` is not of the form. */
  decode(uid: string): number;
}

const HALF = 0x1000000; // 2^24
/** Three hex digits of 0..4095: two lookups make a 24-bit half (radix conversion of a 48-bit double is slow). */
const HEX3 = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
const hex6 = (x: number): string => `${HEX3[x >>> 12]}${HEX3[x & 0xfff]}`;

export function createUidCodec(rng: Rng): UidCodec {
  const [k0, k1, k2, k3] = [0, 1, 2, 3].map(() => rng.int(0, 0xffffff)) as [number, number, number, number];
  const f = (x: number, k: number): number => {
    let h = Math.imul(x ^ k, 0x45d9f3b);
    h ^= h >>> 16;
    h = Math.imul(h, 0x45d9f3b);
    h ^= h >>> 16;
    return h & 0xffffff;
  };
  return {
    encode(row) {
      // Rounds unrolled: (l, r) -> (r, l ^ f(r, k)).
      const l0 = Math.floor(row / HALF);
      const r0 = row % HALF;
      const r1 = l0 ^ f(r0, k0);
      const r2 = r0 ^ f(r1, k1);
      const r3 = r1 ^ f(r2, k2);
      const r4 = r2 ^ f(r3, k3);
      return `${hex6(r3)}${hex6(r4)}`;
    },
    decode(uid) {
      if (!/^[0-9a-f]{12}$/.test(uid)) return -1;
      const n = parseInt(uid, 16);
      const r3 = Math.floor(n / HALF);
      const r4 = n % HALF;
      const r2 = r4 ^ f(r3, k3);
      const r1 = r3 ^ f(r2, k2);
      const r0 = r2 ^ f(r1, k1);
      const l0 = r1 ^ f(r0, k0);
      return l0 * HALF + r0;
    },
  };
}

/** A certificate as a plain object: what tests and the control API look at (the table holds the data). */
export interface FalkorCertificateView {
  uid: string;
  row: number;
  story: number;
  person: number;
  timestampMs: number;
  state: FalkorState;
  removed: boolean;
  changedAtMs: number;
}

export const emailKey = (email: string): string => email.trim().toLowerCase();
/** "firstname lastname", case and repeated spaces ignored (the `users` filter and control lookups). */
export const nameKey = (first: string, last: string): string => `${first} ${last}`.trim().replace(/\s+/g, ' ').toLowerCase();

export class FalkorAccount {
  readonly table = new CertificateTable();
  readonly stories: FalkorStory[] = [];
  readonly people: FalkorLearner[] = [];
  /** World person key -> learner index. */
  readonly learnerByPerson = new Map<string, number>();
  /** emailKey -> learner index. */
  readonly learnerByEmail = new Map<string, number>();
  /** Last change anywhere in the account (epoch ms); not served. */
  modifiedAt: number;

  constructor(
    readonly name: string,
    /** As issued to the account and sent verbatim: `Authorization: Basic <token>`. */
    readonly token: string,
    readonly apps: FalkorApp[],
    readonly groups: string[],
    private readonly codec: UidCodec,
    createdAt: number,
  ) {
    this.modifiedAt = createdAt;
  }

  /** The account's base path: its API lives under it (`/acme/api/v1/logs/story-certificates`). */
  get basePath(): string {
    return `/${this.name}/api`;
  }

  uidOf(row: number): string {
    return this.codec.encode(row);
  }

  /** Row of a live (not removed) certificate, or -1. */
  liveRow(uid: string): number {
    const row = this.codec.decode(uid);
    return row >= 0 && row < this.table.length && this.table.removed[row] === 0 ? row : -1;
  }

  /** `certificate.url`: the permalink, `<origin>/<account>/api/certificates/<uid>`. */
  permalink(origin: string, row: number): string {
    return `${origin}${this.basePath}/certificates/${this.codec.encode(row)}`;
  }

  addLearner(learner: FalkorLearner): number {
    const index = this.people.push(learner) - 1;
    if (!this.learnerByEmail.has(emailKey(learner.email))) this.learnerByEmail.set(emailKey(learner.email), index);
    if (!learner.personKey.startsWith('new:')) this.learnerByPerson.set(learner.personKey, index);
    return index;
  }

  addCertificate(row: { story: number; learner: number; timestamp: number; state: number }, changedAt: number): number {
    this.modifiedAt = Math.max(this.modifiedAt, changedAt);
    return this.table.add({ ...row, changedAt });
  }

  view(row: number): FalkorCertificateView {
    const t = this.table;
    return {
      uid: this.codec.encode(row),
      row,
      story: t.story[row] as number,
      person: t.learner[row] as number,
      timestampMs: t.timestamp[row] as number,
      state: STATES[t.state[row] as number] ?? 'delivered',
      removed: t.removed[row] === 1,
      changedAtMs: t.changedAt[row] as number,
    };
  }

  /** Every certificate ever added (removed ones flagged), as objects: built on each access, for tests. */
  get certificates(): FalkorCertificateView[] {
    return Array.from({ length: this.table.length }, (_, row) => this.view(row));
  }
}
