/**
 * A sync run as the API answers it (GET /v1/sync-runs[/{id}], a source's last_run) and a source as GET /v1/sources
 * answers it. zod only, like provider-view.ts: the web UI takes its types from here.
 */
import { z } from 'zod';
import { providerIdOutput } from './provider-view.ts';

export const runWarningSchema = z.object({
  code: z.string().describe('Stable, for programs: untitled_achievements, no_file, catalog_unavailable, ...'),
  message: z.string().describe('One line, for people; the count is not in it'),
  count: z.number().int().positive().describe('How many items it concerns'),
});

const countsSchema = z.object({ created: z.number(), updated: z.number(), unchanged: z.number(), deleted: z.number() });

export const runSummarySchema = z.object({
  id: z.string(),
  source: z.string().describe('The source id (slug)'),
  provider: providerIdOutput,
  status: z.enum(['running', 'succeeded', 'failed']),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  pages: z.number().nullable(),
  certificates: countsSchema.nullable().describe('Null while running'),
  warnings: z
    .array(runWarningSchema)
    .describe('What the run could not do fully without failing (one per code, counts summed); [] when none, while running, and for runs recorded before warnings existed'),
  error: z.object({ code: z.string().nullable(), message: z.string() }).nullable(),
});

export const runDetailSchema = runSummarySchema.extend({
  requests_by_endpoint: z.record(z.string(), z.number()).describe('Requests the run made, by provider endpoint'),
  throttled_429: z.number().describe('Responses 429 (Too Many Requests) met'),
  retries: z.number(),
});

export const sourceViewSchema = z.object({
  id: z.string().describe('The source id (slug), unique in the tenant'),
  provider: providerIdOutput,
  enabled: z.boolean(),
  settings: z.record(z.string(), z.unknown()).describe('Non-secret settings (base_url, timezone, rate_limit, sync_every_ms, ...)'),
  has_credentials: z.boolean().describe('Credentials are write-only: never returned'),
  syncing: z.boolean(),
  certificates: z.number().describe('Certificates stored from this source (deleted ones included)'),
  last_run: runSummarySchema.nullable(),
  next_sync_at: z.string().nullable().describe('When the scheduler next syncs it, when known'),
  created_at: z.string(),
  updated_at: z.string(),
});

export type RunWarningView = z.output<typeof runWarningSchema>;
export type RunSummary = z.output<typeof runSummarySchema>;
export type RunDetail = z.output<typeof runDetailSchema>;
export type SourceView = z.output<typeof sourceViewSchema>;
