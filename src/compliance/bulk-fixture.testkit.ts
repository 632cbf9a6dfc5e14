/**
 * A large store for the bulk status test and benchmark (no vitest here: bench/ uses it too): people, their
 * identities and ~10 certificates each, written straight into a SQLite file with prepared statements in one
 * transaction (the certificate indexes dropped during the load and rebuilt after, as a bulk load does), and the
 * same data regenerated in memory, person by person, for the expected answers.
 */
import Database from 'better-sqlite3';
import type { Certificate, CertificateStatus } from '../domain/certificate.ts';
import { createSecretBox } from '../secrets.ts';
import { nationalIdHmac } from '../store/national-id.ts';
import type { PersonQuery } from './person-query.ts';

export const CERTS_PER_PERSON = 10;
export const COURSE_COUNT = 20;
export const courseCode = (c: number): string => `C${String(c).padStart(2, '0')}`;

export interface FixtureTarget {
  file: string;
  secretKey: Buffer;
  tenantId: string;
  sourceId: string;
  sourceSlug: string;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export const personId = (i: number): string => `p${String(i).padStart(7, '0')}`;
const nationalIdOf = (i: number): string => `9${String(i).padStart(11, '0')}`;
const nameOf = (i: number): string => `Person Ærø ${i}`;
const NAME_KEY = (i: number): string => `person aero ${i}|1990-01-01`;

/** How person i is asked for: by email, national id, date of birth + name, or provider user id, in turn. */
export function queryFor(i: number, sourceSlug: string): PersonQuery {
  switch (i % 4) {
    case 0:
      return { email: `U${i}@Example.com` };
    case 1:
      return { national_id: nationalIdOf(i) };
    case 2:
      return { date_of_birth: '1990-01-01', name: nameOf(i).toUpperCase() };
    default:
      return { provider_user: { source: sourceSlug, user_id: String(i) } };
  }
}

export interface FixtureCertificate {
  id: string;
  external_id: string;
  status: CertificateStatus;
  code: string;
  issued_at: string;
  valid_from: string;
  valid_until: string | null;
}

/** Person i's certificates, the same every time (ordered by id, as the store reads them). */
export function certificatesOf(i: number, now: Date): FixtureCertificate[] {
  const rnd = mulberry32(i * 2654435761);
  const out: FixtureCertificate[] = [];
  for (let j = 0; j < CERTS_PER_PERSON; j++) {
    const r = rnd();
    const status: CertificateStatus = r < 0.8 ? 'awarded' : r < 0.88 ? 'revoked' : r < 0.94 ? 'deleted' : 'pending';
    const issued = now.getTime() - Math.floor(rnd() * 6 * 365) * DAY - Math.floor(rnd() * DAY);
    // A few start in the future (booked courses issued early).
    const validFrom = rnd() < 0.03 ? now.getTime() + Math.floor(rnd() * 60 + 1) * DAY : issued;
    const u = rnd();
    const validUntil = u < 0.4 ? null : dateOf(now.getTime() + Math.floor((u - 0.7) * 6 * 365) * DAY);
    out.push({
      id: `c${String(i).padStart(7, '0')}-${j}`,
      external_id: `${i}-${j}`,
      status,
      code: courseCode(Math.floor(rnd() * COURSE_COUNT)),
      issued_at: new Date(issued - (issued % 1000)).toISOString(),
      valid_from: dateOf(validFrom),
      valid_until: validUntil,
    });
  }
  return out;
}

/** Enough of a domain Certificate for the domain rules (bestStanding reads status, dates, source, achievement). */
export function asDomainCertificate(c: FixtureCertificate, i: number, sourceSlug: string): Certificate {
  return {
    id: c.id,
    source: sourceSlug,
    provider: 'frontcore',
    external_id: c.external_id,
    status: c.status,
    validity: 'valid',
    person_id: personId(i),
    subject: { provider_user_id: String(i), email: `u${i}@example.com`, first_name: null, last_name: null, date_of_birth: null },
    achievement: { type: 'course', external_id: c.code, title: null, code: c.code },
    issued_at: c.issued_at,
    valid_from: c.valid_from,
    valid_until: c.valid_until,
    serial: null,
    file: { available: false, sha256: null },
    first_seen_at: '',
    updated_at: '',
    last_seen_at: '',
  };
}

/**
 * Writes `people` people (ids 0..people-1) with an email identity each, plus a national id, a name + birth date or a
 * provider user id by turn (see queryFor), and their certificates. The store's own connection may stay open.
 */
export async function loadFixture(target: FixtureTarget, people: number, now: Date): Promise<{ certificates: number; ms: number }> {
  const t0 = performance.now();
  const box = createSecretBox(target.secretKey);
  const db = new Database(target.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -200000');
  const indexes = db
    .prepare("select name, sql from sqlite_master where type = 'index' and tbl_name in ('certificates', 'person_identities', 'people') and sql is not null")
    .all() as { name: string; sql: string }[];
  const stamp = new Date(now.getTime() - 30 * DAY).toISOString();
  const insertPerson = db.prepare(
    'insert into people (id, tenant_id, display_name, date_of_birth, national_id_ciphertext, national_id_hmac, created_at, updated_at, merged_into) values (?, ?, ?, ?, null, ?, ?, ?, null)',
  );
  const insertIdentity = db.prepare(
    'insert into person_identities (id, tenant_id, person_id, kind, source_id, value, value_hmac, matched_by, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertCert = db.prepare(
    `insert into certificates (id, tenant_id, source_id, external_id, person_id, status, subject_json, subject_national_id_hmac,
       subject_national_id_ciphertext, achievement_type, achievement_external_id, achievement_title, achievement_code, issued_at,
       valid_from, valid_until, serial, file_available, raw_json, payload_hash, file_sha256, first_seen_at, updated_at, last_seen_at)
     values (?, ?, ?, ?, ?, ?, ?, null, null, 'course', ?, ?, ?, ?, ?, ?, null, 0, '{}', ?, null, ?, ?, ?)`,
  );
  let certificates = 0;
  // One transaction, written in slices with a turn of the event loop between them: a test worker that blocks for a
  // minute on a loaded machine misses its test runner's calls.
  const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  db.exec('begin');
  try {
    for (const { name } of indexes) db.exec(`drop index "${name}"`);
    const { tenantId, sourceId } = target;
    for (let i = 0; i < people; i++) {
      if (i % 2000 === 0) await breathe();
      const pid = personId(i);
      const hmac = i % 4 === 1 ? nationalIdHmac(box, nationalIdOf(i)) : null;
      insertPerson.run(pid, tenantId, nameOf(i), '1990-01-01', hmac, stamp, stamp);
      insertIdentity.run(`ie${i}`, tenantId, pid, 'email', null, `u${i}@example.com`, null, 'created', stamp);
      if (hmac !== null) insertIdentity.run(`in${i}`, tenantId, pid, 'national_id', null, null, hmac, 'created', stamp);
      if (i % 4 === 2) insertIdentity.run(`id${i}`, tenantId, pid, 'name_dob', null, NAME_KEY(i), null, 'created', stamp);
      if (i % 4 === 3) insertIdentity.run(`iu${i}`, tenantId, pid, 'provider_user', sourceId, String(i), null, 'created', stamp);
      const subject = JSON.stringify({ date_of_birth: '1990-01-01', email: `u${i}@example.com`, first_name: 'Person', last_name: `Ærø ${i}`, provider_user_id: String(i) });
      for (const c of certificatesOf(i, now)) {
        insertCert.run(c.id, tenantId, sourceId, c.external_id, pid, c.status, subject, c.code, `Course ${c.code}`, c.code, c.issued_at, c.valid_from, c.valid_until, c.id, stamp, stamp, stamp);
        certificates++;
      }
    }
    for (const { sql } of indexes) {
      await breathe();
      db.exec(sql);
    }
    db.exec('commit');
  } catch (err) {
    db.exec('rollback');
    throw err;
  }
  await breathe();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
  return { certificates, ms: performance.now() - t0 };
}
