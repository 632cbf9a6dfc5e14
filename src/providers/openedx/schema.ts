/**
 * Open edX payloads as `openedx-credentials.txt` documents them, plus the two things the doc leaves to Open edX
 * itself: the LMS token answer (`/oauth2/access_token`, django-oauth-toolkit) and the course-discovery catalog
 * that names programs and course runs. Objects are loose: Open edX adds fields across releases (`type`,
 * `attributes`, `lms_user_id`...) and a new field must never break a sync.
 */
import { z } from 'zod';
import { httpUrl, secret } from '../../config/fields.ts';
import { resolvedConfigSchema } from '../provider.ts';

// ---- config ---------------------------------------------------------------------------------------------------

/** An Open edX source's own keys in certhub.yaml. */
export const openedxSettings = {
  base_url: httpUrl(),
  oauth: z.strictObject(
    { token_url: httpUrl(), client_id: secret(), client_secret: secret() },
    { error: 'must be a mapping with token_url, client_id and client_secret' },
  ),
  // The course-discovery catalog that names programs and course runs; default: base_url (one host, as in the sandbox).
  catalog_url: httpUrl().optional(),
};

/** The resolved source the connector is given. */
export const openedxConfigSchema = resolvedConfigSchema(openedxSettings);
export type OpenedxConfig = z.output<typeof openedxConfigSchema>;

// ---- LMS token -----------------------------------------------------------------------------------------------

/** `{"access_token", "expires_in", "token_type": "JWT", "scope"}`; expires_in is optional in OAuth2 (RFC 6749 5.1). */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive().optional(),
});

// ---- Credentials API -----------------------------------------------------------------------------------------

/**
 * `credential`: the doc shows `{credential_id, program_uuid}`; course-run credentials carry `course_run_key` and
 * `mode` instead (upstream serializer), and newer releases add `type`. Exactly one identifier is expected; an
 * item with neither is rejected (we could not name its achievement).
 */
const credentialRefSchema = z
  .looseObject({
    credential_id: z.union([z.number(), z.string()]).nullish(),
    program_uuid: z.string().min(1).nullish(),
    course_run_key: z.string().min(1).nullish(),
    mode: z.string().nullish(),
    type: z.string().nullish(),
  })
  .refine((c) => !!c.program_uuid || !!c.course_run_key, 'has neither program_uuid nor course_run_key');

const attributeSchema = z.looseObject({ name: z.string(), value: z.string().nullable() });

/** One credential (doc: "Retrieve a Credential" example). The doc's v1 program example adds `id`: tolerated. */
export const credentialSchema = z.looseObject({
  username: z.string(),
  credential: credentialRefSchema,
  // The doc: "Valid values for the status parameter are awarded and revoked."
  status: z.enum(['awarded', 'revoked']),
  uuid: z.string().min(1),
  // DRF datetimes: `2015-12-17T09:28:35.075376Z`; the fraction is absent at a whole second (Python isoformat).
  created: z.string().min(1),
  modified: z.string().nullish(),
  // The doc's example has `"www.example.com"`: any string, not necessarily an absolute URL.
  download_url: z.string().nullish(),
  certificate_url: z.string().nullish(),
  attributes: z.array(attributeSchema).nullish(),
});

/** DRF page pagination (doc "Get a List of Credentials" example): `{count, next, previous, results}`. */
const drfPage = <T extends z.ZodType>(item: T) =>
  z.looseObject({
    count: z.number().int().nonnegative().optional(),
    next: z.string().min(1).nullable(),
    previous: z.string().nullish(),
    results: z.array(item),
  });

export const credentialsPageSchema = drfPage(credentialSchema);

// ---- learner certificate status (doc: "Query for an individual learner's earned certificates") ---------------------

const statusEntrySchema = z.looseObject({
  course_uuid: z.string().nullish(),
  course_run: z.looseObject({ uuid: z.string().nullish(), key: z.string() }),
  status: z.string(),
  type: z.string().nullish(),
  certificate_available_date: z.string().nullish(),
  grade: z.looseObject({ letter_grade: z.string().nullish(), percent_grade: z.number().nullish(), verified: z.boolean().nullish() }).nullish(),
});

export const learnerCertStatusSchema = z.looseObject({
  // The doc's bulk example answers `"username": null` for a learner asked by lms_user_id; the other way round too.
  lms_user_id: z.number().int().nullable(),
  username: z.string().nullable(),
  status: z.array(statusEntrySchema),
});

export const bulkLearnerCertStatusSchema = z.array(learnerCertStatusSchema);

// ---- course-discovery catalog (not in the doc; Open edX discovery API `/api/v1/`) ----------------------------------

const catalogRunSchema = z.looseObject({ key: z.string(), title: z.string().nullish() });
// Discovery's program lists its courses and their runs (`course_runs`): the runs' titles come along for free.
export const programsPageSchema = drfPage(
  z.looseObject({
    uuid: z.string(),
    title: z.string().nullish(),
    courses: z.array(z.looseObject({ title: z.string().nullish(), course_runs: z.array(catalogRunSchema).nullish() })).nullish(),
  }),
);
// A run's `title` is its course's title in discovery.
export const courseRunsPageSchema = drfPage(catalogRunSchema);

export type Credential = z.output<typeof credentialSchema>;
export type CredentialsPage = z.output<typeof credentialsPageSchema>;
export type LearnerCertStatus = z.output<typeof learnerCertStatusSchema>;
