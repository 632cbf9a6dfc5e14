/** Falkor's one endpoint (story-certificates.txt). Every request goes through the shared ProviderHttpClient. */
import { AppError } from '../../errors.ts';
import { endpointUrl, unexpectedPayload, type ProviderHttpClient } from '../http/index.ts';
import { falkorErrorSchema, storyCertificatesResponseSchema, type StoryCertificatesFilters, type StoryCertificatesResponse } from './schema.ts';

export interface FalkorAccount {
  /** The account's own base URL, API path included (`https://acme.example-falkor.com/api`). */
  base_url: string;
  /** Sent as `Authorization: Basic <token>`: the doc's "Base64 Encoded Token", used as issued (not re-encoded). */
  token: string;
}

export const STORY_CERTIFICATES_ENDPOINT = 'POST /v1/logs/story-certificates';
/** A certificate's permalink (`certificate.url`, "Permalink of the certificate"), which serves its PDF. */
export const FALKOR_PERMALINK = 'GET certificate permalink';

/**
 * Certificates of the account, grouped by story. No pagination: the whole (filtered) answer comes at once.
 * The POST only reads, so it is safe to retry (idempotent).
 */
// POST <base_url>/v1/logs/story-certificates   body: {"app"?, "story"?, "groups"?: [], "users"?: []}
export async function postStoryCertificates(
  http: ProviderHttpClient,
  account: FalkorAccount,
  filters: StoryCertificatesFilters = {},
  signal?: AbortSignal,
): Promise<StoryCertificatesResponse> {
  const res = await http.request<unknown>({
    method: 'POST',
    url: endpointUrl(account.base_url, 'v1/logs/story-certificates'),
    headers: { authorization: `Basic ${account.token}` },
    json: filters,
    endpoint: STORY_CERTIFICATES_ENDPOINT,
    idempotent: true,
    ...(signal === undefined ? {} : { signal }),
  });
  // Not in the doc: an error may also arrive as `{"status":"error","message"}` with HTTP 200.
  const failed = falkorErrorSchema.safeParse(res.data);
  if (failed.success) {
    throw new AppError('provider_error', `${STORY_CERTIFICATES_ENDPOINT} answered status "error"${failed.data.message ? `: ${http.redact(failed.data.message)}` : ''}`, {
      details: { endpoint: STORY_CERTIFICATES_ENDPOINT, status: res.status },
    });
  }
  const parsed = storyCertificatesResponseSchema.safeParse(res.data);
  if (!parsed.success) throw unexpectedPayload(STORY_CERTIFICATES_ENDPOINT, parsed.error);
  return parsed.data;
}
