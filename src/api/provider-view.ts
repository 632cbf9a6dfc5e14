/** What GET /v1/providers answers per provider (zod only: the web UI takes its type from here). */
import { z } from 'zod';

/** A provider id in an answer (the ones this hub knows: GET /v1/providers). */
export const providerIdOutput = z.string().describe('The provider id (GET /v1/providers lists them)');

export const settingsFieldSchema = z.object({
  name: z.string().describe('The setting, dotted as nested in certhub.yaml: base_url, oauth.token_url'),
  label: z.string(),
  secret: z.boolean().describe('A credential: write-only, never shown again'),
  optional: z.boolean(),
  placeholder: z.string().nullable(),
});

export const providerViewSchema = z.object({
  id: z.string().describe('What a source says as its `provider`'),
  title: z.string(),
  completeness: z.enum(['incremental', 'full-scan']).describe('incremental: changes since the last run; full-scan: everything every run, with deletions swept'),
  rate_limit: z
    .object({ requests: z.number(), per_seconds: z.number() })
    .nullable()
    .describe("The account's documented request limit (certhub paces at 90% of it unless a source says otherwise); null: none documented"),
  files: z.boolean().describe('Hands out certificate files (PDFs)'),
  live_status: z.boolean().describe('Answers live status checks (?live=true)'),
  settings: z.array(settingsFieldSchema).describe('The add-source form, in order'),
});

export type ProviderView = z.output<typeof providerViewSchema>;
