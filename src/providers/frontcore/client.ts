/**
 * FrontCore endpoints, one function each, all through the shared ProviderHttpClient (account-wide pacing, retries,
 * Retry-After, redaction of the X-API-Key header, the download token and national identification numbers).
 * Every answer is checked against schema.ts; one that does not fit is AppError('provider_error').
 */
import { AppError } from '../../errors.ts';
import { endpointUrl, parsePayload, type ProviderHttpClient, type QueryValue } from '../http/index.ts';
import {
  diplomasResponseSchema,
  participantsResponseSchema,
  statusResponseSchema,
  type Diploma,
  type FrontcoreAccount,
  type Participant,
  type StatusAnswer,
} from './schema.ts';

export const PARTICIPANTS = 'GET /v2/participants';
export const DIPLOMAS = 'GET /v2/diplomas';
export const CERTIFICATE_STATUS = 'GET /v2/certificates/status';
export const DIPLOMA_DOWNLOAD = 'GET /v2/public/course-users/:user_id/diplomas/:id/download';

/** "limit (default 75, max 250)" (frontcore-notes.md): the largest page means the fewest requests. */
export const PARTICIPANTS_PAGE_LIMIT = 250;

/** What every call needs: the source's HTTP client, its account, and the run's signal. PullContext is one. */
export interface FrontcoreCall {
  http: ProviderHttpClient;
  config: FrontcoreAccount;
  signal?: AbortSignal | undefined;
}

async function getJson(call: FrontcoreCall, path: string, endpoint: string, query: Record<string, QueryValue>): Promise<{ data: unknown; headers: Record<string, string> }> {
  const res = await call.http.request<unknown>({
    method: 'GET',
    url: endpointUrl(call.config.base_url, path),
    // "present the API access key in the HTTP Header as X-API-Key" (frontcore-api-overview.txt)
    headers: { 'X-API-Key': call.config.api_key },
    query,
    endpoint,
    ...(call.signal === undefined ? {} : { signal: call.signal }),
  });
  return { data: res.data, headers: res.headers };
}

/** The server's clock when it answered (HTTP `Date`), or null when it sent none or garbage. */
function serverDate(headers: Record<string, string>): Date | null {
  const raw = headers.date;
  const ms = raw === undefined ? Number.NaN : Date.parse(raw);
  return Number.isNaN(ms) ? null : new Date(ms);
}

export interface ParticipantsPage {
  participants: Participant[];
  /** When FrontCore answered, by its own clock (HTTP Date); null when it did not say. */
  answeredAt: Date | null;
}

// GET https://api.frontcore.com/v2/participants?limit=250&since_id=N&updated_at_min=yyyy-mm-dd hh:mm:ss
// since_id: "only items after that id" (frontcore-notes.md), so pages are keyed by the last id read, not numbered:
// a participant that changes mid-scan cannot shift the pages after it.
export async function listParticipants(call: FrontcoreCall, query: { since_id: number; updated_at_min: string | null }): Promise<ParticipantsPage> {
  const { data, headers } = await getJson(call, 'v2/participants', PARTICIPANTS, {
    limit: PARTICIPANTS_PAGE_LIMIT,
    since_id: query.since_id > 0 ? query.since_id : undefined,
    updated_at_min: query.updated_at_min ?? undefined,
  });
  return { participants: parsePayload(PARTICIPANTS, participantsResponseSchema, data), answeredAt: serverDate(headers) };
}

// GET https://api.frontcore.com/v2/diplomas?user_id=N&participant_id=N&ttl=S   ("At least one parameter is required.")
export async function listDiplomas(call: FrontcoreCall, query: { user_id?: number; participant_id?: number; ttl?: number }): Promise<Diploma[]> {
  if (query.user_id === undefined && query.participant_id === undefined) {
    throw new AppError('invalid_request', `${DIPLOMAS} needs user_id or participant_id`);
  }
  const { data } = await getJson(call, 'v2/diplomas', DIPLOMAS, { user_id: query.user_id, participant_id: query.participant_id, ttl: query.ttl });
  return parsePayload(DIPLOMAS, diplomasResponseSchema, data).items;
}

// ASSUMED path (frontcore-notes.md; the overview names the call, FrontCore publishes no path):
// GET https://api.frontcore.com/v2/certificates/status?national_identification_number=...&course_id=N
export async function checkStatusByNin(call: FrontcoreCall, query: { national_identification_number: string; course_id: number }): Promise<StatusAnswer> {
  const { data } = await getJson(call, 'v2/certificates/status', CERTIFICATE_STATUS, { ...query });
  return parsePayload(CERTIFICATE_STATUS, statusResponseSchema, data);
}

// ASSUMED path (frontcore-notes.md):
// GET https://api.frontcore.com/v2/certificates/status?date_of_birth=YYYY-MM-DD&firstname=...&lastname=...&course_id=N
export async function checkStatusByDobName(
  call: FrontcoreCall,
  query: { date_of_birth: string; firstname: string; lastname: string; course_id: number },
): Promise<StatusAnswer> {
  const { data } = await getJson(call, 'v2/certificates/status', CERTIFICATE_STATUS, { ...query });
  return parsePayload(CERTIFICATE_STATUS, statusResponseSchema, data);
}

// ASSUMED path (frontcore-notes.md):
// GET https://api.frontcore.com/v2/certificates/status?user_id=N&course_id=N
export async function checkStatusByUserId(call: FrontcoreCall, query: { user_id: number; course_id: number }): Promise<StatusAnswer> {
  const { data } = await getJson(call, 'v2/certificates/status', CERTIFICATE_STATUS, { ...query });
  return parsePayload(CERTIFICATE_STATUS, statusResponseSchema, data);
}

// GET https://api.frontcore.com/v2/public/course-users/289252/diplomas/12345/download?token=...   (a diploma's links.download)
// Public: the signed token is the credential, so the API key is NOT sent (the link could point elsewhere).
export async function downloadDiploma(call: FrontcoreCall, downloadUrl: string): Promise<{ bytes: Buffer; contentType: string | null }> {
  let url: URL;
  try {
    url = new URL(downloadUrl);
  } catch {
    throw new AppError('provider_error', `${DIPLOMAS} returned a download link that is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('provider_error', `${DIPLOMAS} returned a download link that is not http(s)`);
  const res = await call.http.request<Buffer>({
    method: 'GET',
    url,
    endpoint: DIPLOMA_DOWNLOAD,
    parse: 'buffer',
    ...(call.signal === undefined ? {} : { signal: call.signal }),
  });
  return { bytes: res.data, contentType: res.headers['content-type'] ?? null };
}
