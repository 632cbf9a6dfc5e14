import type {
  Achievement,
  AchievementType,
  Certificate,
  CertificateStatus,
  CertificateSubject,
  NormalizedCertificate,
} from '../domain/certificate.ts';
import { validity } from '../domain/validity.ts';
import type { SecretBox } from '../secrets.ts';
import { canonicalJson, sha256Hex } from './context.ts';
import { protectNationalId, scrubNationalId } from './national-id.ts';
import { certificateNationalIdPlace } from './secret-places.ts';
import type { CertificateFields, CertificatesTable } from './schema.ts';

type StoredSubject = Omit<CertificateSubject, 'national_id'>;

function storedSubject(subject: CertificateSubject): StoredSubject {
  return {
    provider_user_id: subject.provider_user_id,
    email: subject.email,
    first_name: subject.first_name,
    last_name: subject.last_name,
    date_of_birth: subject.date_of_birth,
  };
}

/**
 * The columns a normalized certificate is stored as. The subject's national id leaves as HMAC + ciphertext only,
 * and is scrubbed from the raw payload too. payload_hash covers every normalized field and the (scrubbed) raw
 * payload, with the national id represented by its HMAC, so any change a reader could notice changes the hash.
 */
export function toCertificateFields(
  box: SecretBox,
  cert: NormalizedCertificate,
  source: { tenant_id: string; source_id: string },
): CertificateFields {
  const nationalId = cert.subject.national_id?.trim()
    ? protectNationalId(box, cert.subject.national_id, certificateNationalIdPlace(source.tenant_id, source.source_id, cert.external_id))
    : null;
  const subject = storedSubject(cert.subject);
  const raw = scrubNationalId(cert.raw, cert.subject.national_id);
  const payloadHash = sha256Hex(
    canonicalJson({
      external_id: cert.external_id,
      status: cert.status,
      subject: { ...subject, national_id_hmac: nationalId?.hmac ?? null },
      achievement: cert.achievement,
      issued_at: cert.issued_at,
      valid_from: cert.valid_from,
      valid_until: cert.valid_until,
      serial: cert.serial,
      file: cert.file,
      raw: raw ?? null,
    }),
  );
  return {
    status: cert.status,
    subject_json: canonicalJson(subject),
    subject_national_id_hmac: nationalId?.hmac ?? null,
    subject_national_id_ciphertext: nationalId?.ciphertext ?? null,
    achievement_type: cert.achievement.type,
    achievement_external_id: cert.achievement.external_id,
    achievement_title: cert.achievement.title,
    achievement_code: cert.achievement.code,
    issued_at: cert.issued_at,
    valid_from: cert.valid_from,
    valid_until: cert.valid_until,
    serial: cert.serial,
    file_available: cert.file.available ? 1 : 0,
    raw_json: canonicalJson(raw ?? null),
    payload_hash: payloadHash,
  };
}

function achievementOf(
  row: Pick<CertificateFields, 'achievement_type' | 'achievement_external_id' | 'achievement_title' | 'achievement_code'>,
): Achievement {
  return {
    type: row.achievement_type as AchievementType,
    external_id: row.achievement_external_id,
    title: row.achievement_title,
    code: row.achievement_code,
  };
}

export type CertificateReadRow = CertificatesTable & { source_slug: string; provider: string };

/** What toCertificate reads of a row: reads that never show the payload or national id need not select them. */
export type CertificateViewRow = Omit<
  CertificateReadRow,
  'raw_json' | 'payload_hash' | 'subject_national_id_hmac' | 'subject_national_id_ciphertext'
>;

export interface ReadOptions {
  /** The instant `validity` is computed for (default: now). */
  now?: Date;
  /** The calendar the YYYY-MM-DD dates are read in (default: the domain's, Europe/Oslo). */
  timeZone?: string;
}

export function toCertificate(row: CertificateViewRow, opts: ReadOptions | undefined): Certificate {
  const status = row.status as CertificateStatus;
  const now = opts?.now ?? new Date();
  const dates = { status, valid_from: row.valid_from, valid_until: row.valid_until };
  return {
    id: row.id,
    source: row.source_slug,
    provider: row.provider,
    external_id: row.external_id,
    status,
    validity: opts?.timeZone === undefined ? validity(dates, now) : validity(dates, now, opts.timeZone),
    person_id: row.person_id,
    subject: JSON.parse(row.subject_json) as StoredSubject,
    achievement: achievementOf(row),
    issued_at: row.issued_at,
    valid_from: row.valid_from,
    valid_until: row.valid_until,
    serial: row.serial,
    file: { available: row.file_available === 1, sha256: row.file_sha256 },
    first_seen_at: row.first_seen_at,
    updated_at: row.updated_at,
    last_seen_at: row.last_seen_at,
  };
}

/** One entry of a certificate's history, as it was recorded. */
export interface CertificateVersion {
  version: number;
  recorded_at: string;
  status: CertificateStatus;
  subject: StoredSubject;
  achievement: Achievement;
  issued_at: string | null;
  valid_from: string | null;
  valid_until: string | null;
  serial: string | null;
  file: { available: boolean };
  /** The provider payload with any national id scrubbed. */
  raw: unknown;
  payload_hash: string;
}

export function toCertificateVersion(row: CertificateFields & { version: number; recorded_at: string }): CertificateVersion {
  return {
    version: row.version,
    recorded_at: row.recorded_at,
    status: row.status as CertificateStatus,
    subject: JSON.parse(row.subject_json) as StoredSubject,
    achievement: achievementOf(row),
    issued_at: row.issued_at,
    valid_from: row.valid_from,
    valid_until: row.valid_until,
    serial: row.serial,
    file: { available: row.file_available === 1 },
    raw: JSON.parse(row.raw_json) as unknown,
    payload_hash: row.payload_hash,
  };
}

/** Exactly the shared certificate/version columns of a row (a spread would drag along the others). */
export function pickCertificateFields(row: CertificateFields): CertificateFields {
  return {
    status: row.status,
    subject_json: row.subject_json,
    subject_national_id_hmac: row.subject_national_id_hmac,
    subject_national_id_ciphertext: row.subject_national_id_ciphertext,
    achievement_type: row.achievement_type,
    achievement_external_id: row.achievement_external_id,
    achievement_title: row.achievement_title,
    achievement_code: row.achievement_code,
    issued_at: row.issued_at,
    valid_from: row.valid_from,
    valid_until: row.valid_until,
    serial: row.serial,
    file_available: row.file_available,
    raw_json: row.raw_json,
    payload_hash: row.payload_hash,
  };
}
