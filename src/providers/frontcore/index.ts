/**
 * The FrontCore connector (course administration, Norway): diplomas pulled incrementally via participants
 * (pull.ts), certificate-status checks by NIN / birth date + name / user id, and a diploma's PDF through a fresh
 * short-lived download link.
 */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { accountKey, defaultRate, type RateLimit } from '../http/index.ts';
import { isPdf } from '../file.ts';
import type { Provider } from '../provider.ts';
import { DIPLOMA_DOWNLOAD, downloadDiploma, listDiplomas, type FrontcoreCall } from './client.ts';
import { pullFrontcoreDiplomas } from './pull.ts';
import { frontcoreLiveCheck } from './status.ts';
import { frontcoreConfigSchema, frontcoreSettings, type FrontcoreAccount, type FrontcoreConfig } from './schema.ts';

export {
  checkStatusByDobName,
  checkStatusByNin,
  checkStatusByUserId,
  downloadDiploma,
  listDiplomas,
  listParticipants,
  PARTICIPANTS_PAGE_LIMIT,
  type FrontcoreCall,
} from './client.ts';
export { LOOKBACK_MS, readFrontcoreCheckpoint, updatedAtMin, type FrontcoreCheckpoint } from './checkpoint.ts';
export { toCertificate, toCourseAchievement, zonelessToUtc, type NormalizeContext } from './normalize.ts';
export { pullFrontcoreDiplomas, USERS_PER_PAGE } from './pull.ts';
export { frontcoreConfigSchema, type Diploma, type FrontcoreConfig, type Participant, type StatusAnswer } from './schema.ts';

/** "We will enforce a rate limit of 5 requests per second per account" (frontcore-api-overview.txt). */
export const FRONTCORE_DOCUMENTED_RATE = { requests: 5, perSeconds: 1 } as const;
/** What certhub paces a FrontCore account at unless certhub.yaml says otherwise: 90% of the documented limit, 4.5/s. */
export const FRONTCORE_DEFAULT_RATE: RateLimit = defaultRate(FRONTCORE_DOCUMENTED_RATE);

/** The limiter key of a FrontCore account: "5 requests per second per account" counts every client of one key. */
export function frontcoreLimiterKey(account: FrontcoreAccount): string {
  return accountKey('frontcore', account.base_url, account.api_key);
}

/** Seconds a download link asked for by fetchDiplomaFile stays valid: long enough to fetch it right away. */
export const FILE_LINK_TTL_SECONDS = 60;

export interface DiplomaFile {
  bytes: Buffer;
  contentType: 'application/pdf';
  filename: string;
}

/** What a stored certificate tells us about where its diploma is: the raw diploma, or at least the user id. */
export interface DiplomaRef {
  external_id: string;
  raw?: unknown;
  subject?: { provider_user_id: string | null };
}

const rawRefSchema = z.looseObject({ participant_id: z.number().int().nullish(), user: z.looseObject({ id: z.number().int() }).nullish() });

/**
 * A diploma's PDF: the diploma again with a fresh download token (`GET /v2/diplomas?participant_id=&ttl=60`, the
 * stored link's token is never kept), then its `links.download`. A diploma FrontCore no longer has, or has deleted,
 * is AppError('not_found').
 */
export async function fetchDiplomaFile(call: FrontcoreCall, cert: DiplomaRef): Promise<DiplomaFile> {
  const raw = rawRefSchema.safeParse(cert.raw);
  const participantId = raw.success ? (raw.data.participant_id ?? null) : null;
  const userText = (raw.success ? raw.data.user?.id : undefined) ?? cert.subject?.provider_user_id ?? null;
  const userId = userText === null ? null : Number(userText);
  if (participantId === null && (userId === null || !Number.isInteger(userId))) {
    throw new AppError('invalid_request', `FrontCore diploma ${cert.external_id}: neither its participant nor its user is known`);
  }
  const items = await listDiplomas(call, {
    ...(participantId === null ? { user_id: userId ?? 0 } : { participant_id: participantId }),
    ttl: FILE_LINK_TTL_SECONDS,
  });
  const diploma = items.find((d) => String(d.id) === cert.external_id);
  if (diploma === undefined) throw new AppError('not_found', `FrontCore has no diploma ${cert.external_id}`);
  if (diploma.deleted_at) throw new AppError('not_found', `FrontCore diploma ${cert.external_id} is deleted`);
  const link = diploma.links?.download;
  if (!link) throw new AppError('provider_error', `FrontCore diploma ${cert.external_id} came without a download link`);
  const { bytes } = await downloadDiploma(call, link);
  if (!isPdf(bytes)) {
    throw new AppError('provider_error', `${DIPLOMA_DOWNLOAD} returned something that is not a PDF (${bytes.length} bytes)`);
  }
  return { bytes, contentType: 'application/pdf', filename: `diploma-${cert.external_id}.pdf` };
}

export function createFrontcoreProvider(): Provider<FrontcoreConfig> {
  return {
    id: 'frontcore',
    title: 'FrontCore',
    settings: frontcoreSettings,
    configSchema: frontcoreConfigSchema,
    secrets: [['api_key']],
    form: [
      { name: 'base_url', label: 'Base URL', placeholder: 'https://api.frontcore.com' },
      { name: 'api_key', label: 'API key' },
      { name: 'timezone', label: 'Time zone of its dates', optional: true, placeholder: 'Europe/Oslo' },
    ],
    completeness: 'incremental',
    // The documented limit: the sync paces at defaultRate() of it (FRONTCORE_DEFAULT_RATE, 4.5/s), on a bucket keyed
    // by the account (frontcoreLimiterKey) and shared by everything using that key (provider.ts, sync/deps.ts).
    rateLimit: FRONTCORE_DOCUMENTED_RATE,
    pull: pullFrontcoreDiplomas,
    fetchFile: fetchDiplomaFile,
    checkStatus: frontcoreLiveCheck,
  };
}

export const frontcoreProvider: Provider<FrontcoreConfig> = createFrontcoreProvider();
