/**
 * FrontCore payloads: `GET /v2/diplomas` exactly as frontcore-diplomas.txt shows it, and the participant
 * fields frontcore-notes.md lists (the rest of a participant passes through untouched).
 * Datetimes are zone-less wall-clock text (`2024-02-15 09:00:00`) in the source's time zone.
 */
import { z } from 'zod';

const zoneless = z.string().regex(/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$/, 'must be a zone-less datetime YYYY-MM-DD HH:MM:SS');
const id = z.number().int();

export const diplomaUserSchema = z.looseObject({
  id,
  firstname: z.string().nullish(),
  lastname: z.string().nullish(),
  email: z.string().nullish(),
  date_of_birth: z.string().nullish(),
  national_identification_number: z.string().nullish(),
});

export const diplomaSchema = z.looseObject({
  id,
  participant_id: id.nullish(),
  user: diplomaUserSchema,
  course: z.looseObject({ id, title: z.string().nullish(), reference: z.string().nullish() }),
  coursedate: z.looseObject({ id: id.nullish(), start_at: zoneless.nullish(), end_at: zoneless.nullish() }).nullish(),
  serial: z.string().nullish(),
  created_at: zoneless,
  updated_at: zoneless.nullish(),
  // "deleted_at marks removal" (DESIGN.md): deleted diplomas are still listed.
  deleted_at: zoneless.nullish(),
  links: z.looseObject({ download: z.string().nullish(), stream: z.string().nullish() }).nullish(),
});

export const diplomasResponseSchema = z.looseObject({ success: z.literal('ok'), items: z.array(diplomaSchema) });

export const participantSchema = z.looseObject({
  id,
  user_id: id.nullish(),
  user: z.looseObject({ id }).nullish(),
  course: z.looseObject({ id, title: z.string().nullish(), reference: z.string().nullish() }).nullish(),
  // "null until a certificate is issued" (frontcore-notes.md)
  certificate_issued_at: zoneless.nullish(),
  completed: z.boolean().nullish(),
  updated_at: zoneless,
});

/** The participants answer is a bare array (frontcore-notes.md), not the diplomas envelope. */
export const participantsResponseSchema = z.array(participantSchema);

/** What the connector needs of a configured source (other keys of the resolved entry pass through). */
export const frontcoreConfigSchema = z.looseObject({
  id: z.string(),
  base_url: z.string().url(),
  api_key: z.string().min(1),
  timezone: z.string().default('Europe/Oslo'),
});

export type Diploma = z.output<typeof diplomaSchema>;
export type Participant = z.output<typeof participantSchema>;
export type FrontcoreConfig = z.output<typeof frontcoreConfigSchema>;
