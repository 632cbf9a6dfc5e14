/**
 * FrontCore payloads, the one place where what we assume about them is written down.
 * - `GET /v2/diplomas`: every field of the example in frontcore-diplomas.txt (its only specification).
 * - `GET /v2/participants`: the fields frontcore-notes.md lists as "seen"; the rest of a participant passes through.
 * - `GET /v2/certificates/status`: the answer frontcore-notes.md ASSUMES (FrontCore publishes no shape).
 * Objects are loose (a real FrontCore may add fields; they are kept in `raw`). Fields the connector needs to build a
 * correct certificate are required; the others may be missing or null, since the doc shows one example, not a schema.
 * Datetimes are zone-less wall-clock text (`2024-02-15 09:00:00`) in the source's time zone (DESIGN.md provider facts).
 */
import { z } from 'zod';
import { httpUrl, secret, text as settingText } from '../../config/fields.ts';
import { DEFAULT_TIME_ZONE, isValidTimeZone } from '../../domain/validity.ts';
import { resolvedConfigSchema } from '../provider.ts';

/** `yyyy-mm-dd hh:mm:ss`, or `yyyy-mm-dd` alone (the participants filter format of frontcore-notes.md). */
export const zonelessSchema = z
  .string()
  // Documented zone-less; FrontCore's coursedates answers have been seen with offsets (monscorps/kkurs.no
  // worker/test/fixtures/courses_coursedates.json), so an ISO time with its own offset is read as that instant.
  .regex(/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/i, 'must be a datetime yyyy-mm-dd hh:mm:ss (zone-less, or ISO 8601 with an offset)');
const id = z.number().int();
/** A text field of the doc's example that a real account may leave empty (null) or omit. */
const text = z.string().nullish();
const flag = z.boolean().nullish();

export const diplomaUserSchema = z.looseObject({
  id,
  firstname: text,
  lastname: text,
  // Kept exactly as spelled (letter case, stray spaces): identity normalizes emails, not the connector.
  email: text,
  phone: text,
  date_of_birth: text,
  gender: text,
  nationality: text,
  // null in the doc's example; a secret wherever it is set (redacted from logs, encrypted in the store).
  national_identification_number: text,
  position: text,
  company_employee_number: text,
  created_at: zonelessSchema.nullish(),
  updated_at: zonelessSchema.nullish(),
});

export const courseSchema = z.looseObject({
  id,
  title: text,
  reference: text,
  created_at: zonelessSchema.nullish(),
  updated_at: zonelessSchema.nullish(),
});

export const diplomaSchema = z.looseObject({
  id,
  // "the diploma for a specific course enrollment": null would only mean we cannot ask for it by participant.
  participant_id: id.nullish(),
  user: diplomaUserSchema,
  course: courseSchema,
  // Every example diploma has a course date; a course without dates (e-learning) may not: valid_from is then null.
  coursedate: z
    .looseObject({
      id: id.nullish(),
      start_at: zonelessSchema.nullish(),
      end_at: zonelessSchema.nullish(),
      deadline_at: zonelessSchema.nullish(),
      location: z.looseObject({ id: id.nullish(), title: text, address: text, zipcode: text, city: text, country: text }).nullish(),
    })
    .nullish(),
  passed_note: text,
  is_participated: flag,
  is_completed: flag,
  is_passed: flag,
  is_assessment_completed: flag,
  is_diploma_printed: flag,
  is_sent: flag,
  random_certificate_number: text,
  serial: text,
  result_updated_at: zonelessSchema.nullish(),
  // The issue time: required, a certificate without one would be dated wrongly.
  created_at: zonelessSchema,
  updated_at: zonelessSchema.nullish(),
  // "deleted_at marks removal" (DESIGN.md): a deleted diploma is still listed, with deleted_at set.
  deleted_at: zonelessSchema.nullish(),
  // `download` carries a signed token valid `ttl` seconds (default 900); `stream` needs the API key.
  links: z.looseObject({ download: text, stream: text }).nullish(),
});

/** `{"success": "ok", "items": [...]}` (frontcore-diplomas.txt). */
export const diplomasResponseSchema = z.looseObject({ success: z.literal('ok'), items: z.array(diplomaSchema) });

export const participantSchema = z.looseObject({
  id,
  // The doc lists user_id as a filter, not as a field; a nested `user {id}` is read when user_id is missing.
  user_id: id.nullish(),
  user: z.looseObject({ id }).nullish(),
  course: z.looseObject({ id, title: text, reference: text }).nullish(),
  // "null until a certificate is issued" (frontcore-notes.md)
  certificate_issued_at: zonelessSchema.nullish(),
  completed: flag,
  archived_at: zonelessSchema.nullish(),
  // What incremental sync keys on (updated_at_min): required.
  updated_at: zonelessSchema,
});

/** The participants answer is a bare JSON array, not the diplomas envelope (frontcore-notes.md). */
export const participantsResponseSchema = z.array(participantSchema);

/** ASSUMED (frontcore-notes.md): a summary of a diploma in a certificate-status answer. */
export const statusItemSchema = z.looseObject({
  id,
  participant_id: id.nullish(),
  user_id: id.nullish(),
  course: z.looseObject({ id, title: text, reference: text }).nullish(),
  coursedate: z.looseObject({ id: id.nullish(), start_at: zonelessSchema.nullish(), end_at: zonelessSchema.nullish() }).nullish(),
  serial: text,
  random_certificate_number: text,
  created_at: zonelessSchema.nullish(),
});

/** ASSUMED (frontcore-notes.md): `{"success":"ok","valid":true|false,"items":[diploma summaries]}`. */
export const statusResponseSchema = z.looseObject({ success: z.literal('ok'), valid: z.boolean(), items: z.array(statusItemSchema) });

/** A FrontCore source's own keys in certhub.yaml. */
export const frontcoreSettings = {
  base_url: httpUrl(),
  api_key: secret(),
  // FrontCore datetimes carry no zone (frontcore-notes.md): this is the zone they are read in.
  timezone: settingText()
    .refine(isValidTimeZone, 'must be an IANA time zone like Europe/Oslo')
    .default(DEFAULT_TIME_ZONE),
};

/** The resolved source the connector is given. */
export const frontcoreConfigSchema = resolvedConfigSchema(frontcoreSettings);
export type FrontcoreConfig = z.output<typeof frontcoreConfigSchema>;
/** What the endpoint functions need of a source: where, which key, which zone. */
export type FrontcoreAccount = Pick<FrontcoreConfig, 'base_url' | 'api_key'> & { timezone?: string };
export type Diploma = z.output<typeof diplomaSchema>;
export type Participant = z.output<typeof participantSchema>;
export type StatusAnswer = z.output<typeof statusResponseSchema>;
