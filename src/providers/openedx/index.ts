/**
 * The Open edX connector (openedx-credentials.txt): one source = one OAuth client of one Open edX site.
 *
 * A full-scan provider: `GET /api/v2/credentials/` has no changed-since filter, so every run pages through the
 * whole list (`next` links, 100 a page) and the engine sweeps to `deleted` what a complete scan did not return.
 * Titles come from the course-discovery catalog (`catalog_url`, default base_url), asked once per run for the
 * programs and course runs each page newly names. revoked -> revoked.
 *
 * Requests per run: 1 token + ceil(credentials / 100) pages + at most 2 catalog requests per page (only for
 * programs / runs not yet named this run; in practice a handful in all, as the catalog is small).
 */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { downloadPdfLink, type CertificateFile, type CertificateFileRef, type FileContext } from '../file.ts';
import type { Provider } from '../provider.ts';
import { PAGE_SIZE } from './client.ts';
import { openedxConfigSchema, openedxSettings, type OpenedxConfig } from './schema.ts';
import { openedxLiveCheck } from './status.ts';
import { pullOpenedxCredentials, type OpenedxProviderOptions } from './pull.ts';

export {
  bulkLearnerCertStatus,
  courseRunTitles,
  createCredential,
  createOpenedxSession,
  getCredential,
  learnerCertStatus,
  listCredentialsPage,
  programTitles,
  revokeCredential,
  setCredentialStatus,
  type CreateCredentialInput,
  type LearnerCertStatusQuery,
  type OpenedxSession,
} from './client.ts';
export { drfInstant, toAchievement, toCatalogAchievement, toCertificate, type NormalizeContext, type Titles } from './normalize.ts';
export { openedxConfigSchema, type Credential, type LearnerCertStatus, type OpenedxConfig } from './schema.ts';
export { readOpenedxCheckpoint, pullOpenedxCredentials, type OpenedxCheckpoint, type OpenedxProviderOptions } from './pull.ts';

/** A credential's `download_url`, which serves its certificate as PDF. */
export const CREDENTIAL_DOWNLOAD = 'GET credential download_url';

const downloadRefSchema = z.looseObject({ download_url: z.string().nullish() });

// GET <download_url>   (a credential's own link; the doc's example value "www.example.com" is no URL, which is refused)
async function fetchCredentialFile(ctx: FileContext<OpenedxConfig>, cert: CertificateFileRef): Promise<CertificateFile> {
  const raw = downloadRefSchema.safeParse(cert.raw);
  const link = raw.success ? raw.data.download_url : null;
  if (!link) throw new AppError('not_found', `Open edX credential ${cert.external_id} has no download_url`);
  const bytes = await downloadPdfLink(ctx.http, link, CREDENTIAL_DOWNLOAD, ctx.signal);
  return { bytes, contentType: 'application/pdf', filename: `credential-${cert.external_id}.pdf` };
}

export function createOpenedxProvider(opts: OpenedxProviderOptions = {}): Provider<OpenedxConfig> {
  const pageSize = opts.pageSize ?? PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > PAGE_SIZE) throw new RangeError(`pageSize must be an integer in 1..${PAGE_SIZE}`);
  return {
    id: 'openedx',
    title: 'Open edX',
    settings: openedxSettings,
    configSchema: openedxConfigSchema,
    secrets: [
      ['oauth', 'client_id'],
      ['oauth', 'client_secret'],
    ],
    form: [
      { name: 'base_url', label: 'Credentials service URL', placeholder: 'https://credentials.example.org' },
      { name: 'oauth.token_url', label: 'LMS token URL', placeholder: 'https://lms.example.org/oauth2/access_token' },
      { name: 'oauth.client_id', label: 'OAuth client id' },
      { name: 'oauth.client_secret', label: 'OAuth client secret' },
    ],
    // Open edX user ids are usernames, which the LMS treats case-insensitively.
    normalizeUserId: (id) => id.toLowerCase(),
    checkStatus: openedxLiveCheck,
    completeness: 'full-scan',
    // The doc gives no number. Open edX throttles with DRF's UserRateThrottle per client; certhub's sandbox LMS
    // (simulators/openedx) allows 120 requests a minute, stated per second so the bucket paces evenly: the
    // client runs at 90% (1.8/s, 108 a minute) and honours Retry-After on a 429 anyway.
    rateLimit: { requests: 2, perSeconds: 1 },
    pull: (ctx, checkpoint) => pullOpenedxCredentials(ctx, checkpoint, { pageSize }),
    fetchFile: fetchCredentialFile,
  };
}

export const openedxProvider: Provider<OpenedxConfig> = createOpenedxProvider();
