/**
 * Springest's records for one country host, kept compact: certificates are column arrays (typed
 * arrays that grow by doubling) of indexes into the host's certifications and users, calendar days
 * and epoch milliseconds; JSON is built only when a certificate is served (present.ts). Ids grow with
 * the row index, so "sorted by id" is row order and a lookup by id is a binary search.
 */
import { grown } from '../common/columns.ts';

export interface Certification {
  id: number;
  name: string;
  description: string;
  requires_valid_until: boolean;
  /** Verified by a Springest employee: only then do its certificates show in GET (and it in /certifications). */
  verified: boolean;
  /** How long a certificate of it lasts, in years; 0 = no end date. Generation only, never served. */
  years: number;
}

export interface SpringestUser {
  /** As Springest spells it (world.emailFor, or as posted): never normalized. */
  email: string;
  /** The employee number of the corporate customer, e.g. `E010042`. */
  external_id: string;
  /** The world person behind it, or `new:<email>` for an address no world person has. */
  personKey: string;
}

/** The doc lists `status` without values; the simulator uses these three (see truth.ts for the mapping). */
export const STATUSES = ['approved', 'pending', 'rejected'] as const;
export type SpringestStatus = (typeof STATUSES)[number];

/** A file posted through the API, kept whole so tests of certhub's push can check the bytes. */
export interface PostedFile {
  sha256: string;
  bytes: number;
  conversion_id: number | null;
  pdf: Buffer;
}

/** `valid_until` null. */
export const NO_DAY = -2_147_483_648;


export class CertificateTable {
  length = 0;
  id = new Int32Array(0);
  /** Index into SpringestHost.certifications. */
  certification = new Uint8Array(0);
  /** Index into SpringestHost.users. */
  user = new Int32Array(0);
  /** Days since 1970-01-01. */
  validFrom = new Int32Array(0);
  /** Days since 1970-01-01, NO_DAY = null. */
  validUntil = new Int32Array(0);
  /** Index into STATUSES. */
  status = new Uint8Array(0);
  createdAt = new Float64Array(0);
  /** Last change (generation, POST, control route); not served: Springest has no updated_at. */
  updatedAt = new Float64Array(0);
  removed = new Uint8Array(0);

  add(row: { id: number; certification: number; user: number; validFrom: number; validUntil: number; status: number; createdAt: number }): number {
    const i = this.length++;
    this.id = grown(this.id, this.length);
    this.certification = grown(this.certification, this.length);
    this.user = grown(this.user, this.length);
    this.validFrom = grown(this.validFrom, this.length);
    this.validUntil = grown(this.validUntil, this.length);
    this.status = grown(this.status, this.length);
    this.createdAt = grown(this.createdAt, this.length);
    this.updatedAt = grown(this.updatedAt, this.length);
    this.removed = grown(this.removed, this.length);
    this.id[i] = row.id;
    this.certification[i] = row.certification;
    this.user[i] = row.user;
    this.validFrom[i] = row.validFrom;
    this.validUntil[i] = row.validUntil;
    this.status[i] = row.status;
    this.createdAt[i] = row.createdAt;
    this.updatedAt[i] = row.createdAt;
    this.removed[i] = 0;
    return i;
  }

  /** Row of certificate `id`, or -1. */
  rowOf(id: number): number {
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.id[mid] as number;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

export interface SpringestHost {
  country: string;
  /** The zone `created_from` dates are read in. */
  timeZone: string;
  apiKey: string;
  certificationsKey: string;
  certifications: Certification[];
  users: SpringestUser[];
  /** Lower-cased, trimmed email -> user index. */
  userByEmail: Map<string, number>;
  /** World person key -> user index. */
  userByPerson: Map<string, number>;
  certificates: CertificateTable;
  /** Row -> the file, for certificates posted through the API. */
  posted: Map<number, PostedFile>;
  nextId: number;
  /** Next employee number for a user Springest learns of through a POST. */
  nextEmployeeNo: number;
  dayText: (day: number) => string;
}

export const emailKey = (email: string): string => email.trim().toLowerCase();

export const dayNumber = (date: string): number => Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);

/** `YYYY-MM-DD` of a day number, memoized per host (a world has a few thousand distinct days). */
export function createDayText(): (day: number) => string {
  const texts = new Map<number, string>();
  return (day) => {
    let text = texts.get(day);
    if (text === undefined) {
      text = new Date(day * 86_400_000).toISOString().slice(0, 10);
      texts.set(day, text);
    }
    return text;
  };
}

export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function addUser(host: SpringestHost, user: SpringestUser): number {
  const index = host.users.push(user) - 1;
  host.userByEmail.set(emailKey(user.email), index);
  if (!user.personKey.startsWith('new:')) host.userByPerson.set(user.personKey, index);
  return index;
}

export function addCertificate(host: SpringestHost, row: { certification: number; user: number; validFrom: number; validUntil: number; status?: number; createdAt: number }): number {
  return host.certificates.add({ ...row, id: host.nextId++, status: row.status ?? 0 });
}

/** Shown by GET: not removed and its certification verified ("only be visible via GET calls if ... verified"). */
export function isVisible(host: SpringestHost, row: number): boolean {
  const t = host.certificates;
  return t.removed[row] === 0 && host.certifications[t.certification[row] as number]?.verified === true;
}
