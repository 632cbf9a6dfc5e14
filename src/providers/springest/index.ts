/**
 * The Springest connector (springest-certificates.txt): one source = one country host. Incremental by
 * `created_from` (the last created_at seen minus one day, because the filter is an inclusive date in the
 * host's own zone; certificates seen twice are the same id and are stored once). The GET shows neither
 * changes to existing certificates nor deletions, so once a day (and on `certhub sync --full`) a run reads
 * everything and is marked a full scan, which the engine sweeps. No pagination: every run is ONE request
 * for certificates, plus GET /certifications (separate key) at most once a day for the catalog.
 */
import type { Provider } from '../provider.ts';
import { springestPush } from './push.ts';
import { springestConfigSchema, springestSettings, type SpringestConfig } from './schema.ts';
import { SPRINGEST_PAGE_SIZE, pullSpringestCertificates } from './pull.ts';

export { listCertificates, listCertifications, postCertificate, createPostLimiter, type OutboundSpringestCertificate } from './client.ts';
export { toCertificate, toCertificationAchievement, toStatus } from './normalize.ts';
export { SPRINGEST_PAGE_SIZE, SPRINGEST_FULL_EVERY_MS, readSpringestCheckpoint, createdFrom, pullSpringestCertificates, type SpringestCheckpoint } from './pull.ts';

export interface SpringestProviderOptions {
  pageSize?: number;
}

export function createSpringestProvider(opts: SpringestProviderOptions = {}): Provider<SpringestConfig> {
  const pageSize = opts.pageSize ?? SPRINGEST_PAGE_SIZE;
  return {
    id: 'springest',
    title: 'Springest',
    settings: springestSettings,
    configSchema: springestConfigSchema,
    secrets: [['api_key'], ['certifications_api_key']],
    form: [
      { name: 'base_url', label: 'Base URL', placeholder: 'https://api.springest.nl' },
      { name: 'api_key', label: 'API key' },
      { name: 'certifications_api_key', label: 'Certifications API key', optional: true },
    ],
    completeness: 'incremental',
    // "about 4000 requests/hour per key"
    rateLimit: { requests: 4000, perSeconds: 3600 },
    pull: (ctx, checkpoint) => pullSpringestCertificates(ctx, checkpoint, pageSize),
    push: springestPush,
  };
}

export const springestProvider: Provider<SpringestConfig> = createSpringestProvider();
