/**
 * The Falkor connector (story-certificates.txt): one source = one Falkor account. A full-scan provider:
 * Falkor has no "changed since" filter and no pagination, so every run reads the whole account and the
 * engine sweeps (marks deleted) what a complete scan no longer returned.
 *
 * Requests: ONE `POST v1/logs/story-certificates` per run, for the whole account. The doc also allows one
 * request per story (`story` filter), but at the sizes we see (a few thousand certificates, well under a MB)
 * one answer is cheaper and gives one `hash` for the whole account; per-story requests would only be worth
 * it for accounts whose answer does not fit in memory.
 */
import { downloadPdfLink } from '../file.ts';
import type { Provider } from '../provider.ts';
import { FALKOR_PERMALINK } from './client.ts';
import { falkorConfigSchema, falkorSettings, type FalkorConfig } from './schema.ts';
import { FALKOR_PAGE_SIZE, pullFalkorCertificates } from './pull.ts';

export { postStoryCertificates, STORY_CERTIFICATES_ENDPOINT } from './client.ts';
export { toCertificate, toStoryAchievement, storyAchievementId } from './normalize.ts';
export { FALKOR_PAGE_SIZE, readFalkorCheckpoint, pullFalkorCertificates, type FalkorCheckpoint } from './pull.ts';

export interface FalkorProviderOptions {
  /** Certificates per page (default FALKOR_PAGE_SIZE); tests use small pages to exercise resuming. */
  pageSize?: number;
}

export function createFalkorProvider(opts: FalkorProviderOptions = {}): Provider<FalkorConfig> {
  const pageSize = opts.pageSize ?? FALKOR_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  return {
    id: 'falkor',
    title: 'Falkor',
    settings: falkorSettings,
    configSchema: falkorConfigSchema,
    secrets: [['token']],
    form: [
      { name: 'base_url', label: 'Account base URL', placeholder: 'https://acme.example-falkor.com/api' },
      { name: 'token', label: 'Token' },
    ],
    completeness: 'full-scan',
    // story-certificates.txt documents no request limit, so none is assumed (a source's `rate_limit` still applies).
    rateLimit: undefined,
    pull: (ctx, checkpoint) => pullFalkorCertificates(ctx, checkpoint, pageSize),
    // The external id is the permalink `certificate.url`, and the permalink serves the PDF itself (no auth).
    fetchFile: async (ctx, cert) => ({
      bytes: await downloadPdfLink(ctx.http, cert.external_id, FALKOR_PERMALINK, ctx.signal),
      contentType: 'application/pdf',
      filename: `certificate-${cert.external_id.replace(/\/+$/, '').split('/').pop() ?? 'falkor'}.pdf`,
    }),
  };
}

export const falkorProvider: Provider<FalkorConfig> = createFalkorProvider();
