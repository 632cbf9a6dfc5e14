/** Open edX payloads (openedx-credentials.txt) and the LMS token answer; DRF page envelopes. */
import { z } from 'zod';

export const tokenResponseSchema = z.looseObject({ access_token: z.string().min(1), token_type: z.string().optional(), expires_in: z.number().positive().optional() });

// The doc's example shows a program credential; course-run credentials carry course_run_key (+ mode) instead.
export const credentialSchema = z.looseObject({
  username: z.string(),
  credential: z.looseObject({
    credential_id: z.union([z.number(), z.string()]).nullish(),
    type: z.string().nullish(),
    program_uuid: z.string().nullish(),
    course_run_key: z.string().nullish(),
    mode: z.string().nullish(),
  }),
  status: z.enum(['awarded', 'revoked']),
  uuid: z.string().min(1),
  created: z.string(),
  modified: z.string().nullish(),
  download_url: z.string().nullish(),
  certificate_url: z.string().nullish(),
});

const drfPage = <T extends z.ZodType>(item: T) =>
  z.looseObject({ count: z.number().int().nonnegative().optional(), next: z.string().nullable(), previous: z.string().nullish(), results: z.array(item) });

export const credentialsPageSchema = drfPage(credentialSchema);
export const programsPageSchema = drfPage(z.looseObject({ uuid: z.string(), title: z.string().nullish() }));
export const courseRunsPageSchema = drfPage(z.looseObject({ key: z.string(), title: z.string().nullish() }));

/** What the connector needs of a configured source (other keys of the resolved entry pass through). */
export const openedxConfigSchema = z.looseObject({
  id: z.string(),
  base_url: z.string().url(),
  oauth: z.looseObject({ token_url: z.string().url(), client_id: z.string().min(1), client_secret: z.string().min(1) }),
  // Where the course-discovery catalog answers (titles of programs and runs); default: base_url.
  catalog_url: z.string().url().optional(),
});

export type Credential = z.output<typeof credentialSchema>;
export type OpenedxConfig = z.output<typeof openedxConfigSchema>;
