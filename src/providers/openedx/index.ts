/**
 * The Open edX connector (openedx-credentials.txt, read against openedx/credentials): one source = one OAuth client of
 * one Open edX Credentials service.
 *
 * A full-scan provider: `GET /api/v2/credentials/` has no changed-since filter, so every run pages through the
 * whole list (`next` links, as many rows a page as the server serves: 20 by default) and the engine sweeps to
 * `deleted` what a complete scan did not return, after the scan looked up each stored credential it did not list
 * (the list has no order). Titles come from the course-discovery service only when `catalog_url` is configured, asked
 * once per run for the programs and course runs each page newly names; without it, or when it fails, achievements
 * stay untitled and the run report says so. revoked -> revoked.
 *
 * Requests per run: 1 token + ceil(credentials / page size) pages + one lookup per stored credential the scan did not
 * list + at most 2 catalog requests per page (only for programs / runs not yet named this run).
 */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { downloadPdfLink, type CertificateFile, type CertificateFileRef, type FileContext } from '../file.ts';
import type { Provider } from '../provider.ts';
import { openedxPush } from './push.ts';
import { openedxConfigSchema, openedxSettings, type OpenedxConfig } from './schema.ts';
import { openedxLiveCheck } from './status.ts';
import { pullOpenedxCredentials } from './pull.ts';
import { fileLink } from './normalize.ts';

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
export { drfInstant, fileLink, toAchievement, toCatalogAchievement, toCertificate, type NormalizeContext, type Titles } from './normalize.ts';
export { openedxConfigSchema, type Credential, type LearnerCertStatus, type OpenedxConfig } from './schema.ts';
export { MAX_UNSEEN_LOOKUPS, readOpenedxCheckpoint, pullOpenedxCredentials, type OpenedxCheckpoint } from './pull.ts';

/** A credential's `download_url`, which serves its certificate as PDF. */
export const CREDENTIAL_DOWNLOAD = 'GET credential download_url';

const downloadRefSchema = z.looseObject({ download_url: z.string().nullish() });

// GET <download_url>   (a credential's own link; the doc's example value "www.example.com" is no URL, which is refused)
async function fetchCredentialFile(ctx: FileContext<OpenedxConfig>, cert: CertificateFileRef): Promise<CertificateFile> {
  const raw = downloadRefSchema.safeParse(cert.raw);
  const link = raw.success ? fileLink(raw.data) : null;
  if (link === null) throw new AppError('not_found', `Open edX credential ${cert.external_id} has no file: the service gives no download_url for it`);
  const bytes = await downloadPdfLink(ctx.http, link, CREDENTIAL_DOWNLOAD, ctx.signal);
  return { bytes, contentType: 'application/pdf', filename: `credential-${cert.external_id}.pdf` };
}

export function createOpenedxProvider(): Provider<OpenedxConfig> {
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
      { name: 'catalog_url', label: 'Course-discovery URL (for titles)', optional: true, placeholder: 'https://discovery.example.org' },
    ],
    // Open edX user ids are usernames, which the LMS treats case-insensitively.
    normalizeUserId: (id) => id.toLowerCase(),
    checkStatus: openedxLiveCheck,
    completeness: 'full-scan',
    // The doc gives no number; the service does (credentials/apps/api/v2/views.py CredentialRateThrottle): 15 requests a
    // minute per user on the credential endpoints, staff exempt. Paced at 90% of that (13.5 a minute). A staff service
    // user can go faster with its own `rate_limit` in certhub.yaml.
    rateLimit: { requests: 15, perSeconds: 60 },
    // A throttle's Retry-After is waited out, however long the operator's rate makes it (an hour at most), not failed.
    retry: { maxRetryAfterMs: 60 * 60_000 },
    pull: (ctx, checkpoint) => pullOpenedxCredentials(ctx, checkpoint),
    push: openedxPush,
    fetchFile: fetchCredentialFile,
  };
}

export const openedxProvider: Provider<OpenedxConfig> = createOpenedxProvider();
