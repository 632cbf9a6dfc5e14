/**
 * The normalized certificate: API, export and store agree on these names (DESIGN.md).
 * `validity` is never stored; it is computed from status and dates at read time.
 *
 * The stored certificate is one zod schema, `certificateSchema`: the API declares its answers with it and the
 * `Certificate` type is derived from it, so the two cannot drift apart.
 */
import { z } from 'zod';

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

/** Who the provider says earned it, as the API shows it (not yet resolved to a person). */
export const certificateSubjectSchema = z.object({
  provider_user_id: z.string().nullable(),
  email: z.string().nullable(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  /** YYYY-MM-DD */
  date_of_birth: z.string().nullable(),
});

/** Who the provider says earned it, as the provider said it (not yet resolved to a person). */
export type CertificateSubject = z.output<typeof certificateSubjectSchema> & {
  /**
   * Plain national identification number as read from the provider. Only ever held in memory
   * between normalize and store: the store keeps ciphertext + HMAC, and it is never serialized out.
   */
  national_id?: string | null;
};

export const achievementSchema = z.object({
  type: z.enum(ACHIEVEMENT_TYPES),
  external_id: z.string(),
  title: z.string().nullable(),
  code: z.string().nullable(),
});
export type Achievement = z.output<typeof achievementSchema>;

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
export const certificateSchema = z
  .object({
    id: z.string(),
    source: z.string().describe('The source id (slug) as configured'),
    provider: z.string().describe('The provider id (GET /v1/providers lists them)'),
    external_id: z.string(),
    status: z.enum(CERTIFICATE_STATUSES),
    validity: z.enum(VALIDITIES).describe('Computed at read time (or at as_of) from status and dates'),
    person_id: z.string().nullable(),
    subject: certificateSubjectSchema,
    achievement: achievementSchema,
    issued_at: z.string().nullable(),
    valid_from: z.string().nullable(),
    valid_until: z.string().nullable(),
    serial: z.string().nullable(),
    file: z.object({ available: z.boolean(), sha256: z.string().nullable() }),
    first_seen_at: z.string(),
    updated_at: z.string(),
    last_seen_at: z.string(),
  })
  .describe('A normalized certificate');
export type Certificate = z.output<typeof certificateSchema>;
