/**
 * The normalized certificate: API, export and store agree on these names (DESIGN.md).
 * `validity` is never stored; it is computed from status and dates at read time.
 */
export const CERTIFICATE_STATUSES = ['awarded', 'pending', 'revoked', 'deleted'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export const VALIDITIES = ['valid', 'expired', 'not_yet_valid', 'revoked', 'pending', 'deleted'] as const;
export type Validity = (typeof VALIDITIES)[number];

/** A provider's id (`Provider.id`): which ones this build knows is the provider registry's (providers/registry.ts). */
export type ProviderId = string;

export const ACHIEVEMENT_TYPES = [
  'course',
  'program',
  'course_run',
  'story',
  'assessment',
  'survey',
  'scorm',
  'certification',
] as const;
export type AchievementType = (typeof ACHIEVEMENT_TYPES)[number];

/** Who the provider says earned it, as the provider said it (not yet resolved to a person). */
export interface CertificateSubject {
  provider_user_id: string | null;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  /** YYYY-MM-DD */
  date_of_birth: string | null;
  /**
   * Plain national identification number as read from the provider. Only ever held in memory
   * between normalize and store: the store keeps ciphertext + HMAC, and it is never serialized out.
   */
  national_id?: string | null;
}

export interface Achievement {
  type: AchievementType;
  external_id: string;
  title: string | null;
  code: string | null;
}

/** What a provider connector produces: a certificate as the provider has it, normalized. */
export interface NormalizedCertificate {
  external_id: string;
  status: CertificateStatus;
  subject: CertificateSubject;
  achievement: Achievement;
  /** ISO-8601 UTC instant, or null when the provider gives none. */
  issued_at: string | null;
  /** YYYY-MM-DD dates (calendar days; inclusive). */
  valid_from: string | null;
  valid_until: string | null;
  serial: string | null;
  file: { available: boolean };
  /** The provider's original payload, kept as-is; its hash decides whether a record changed. */
  raw: unknown;
}

/** A stored certificate as the API and exports show it. */
export interface Certificate {
  id: string;
  source: string;
  provider: ProviderId;
  external_id: string;
  status: CertificateStatus;
  validity: Validity;
  person_id: string | null;
  subject: Omit<CertificateSubject, 'national_id'>;
  achievement: Achievement;
  issued_at: string | null;
  valid_from: string | null;
  valid_until: string | null;
  serial: string | null;
  file: { available: boolean; sha256: string | null };
  first_seen_at: string;
  updated_at: string;
  last_seen_at: string;
}
