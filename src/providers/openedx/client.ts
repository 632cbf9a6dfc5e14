/**
 * Open edX endpoints, all through the shared ProviderHttpClient. Auth: `Authorization: JWT <token>` from the
 * LMS `/oauth2/access_token` (client_credentials, token_type=jwt), cached until shortly before it expires and
 * fetched again after a 401 (once per request).
 */
import { AppError } from '../../errors.ts';
import { endpointUrl, parsePayload, type ProviderHttpClient } from '../http/index.ts';
import type { z } from 'zod';
import { courseRunsPageSchema, credentialsPageSchema, programsPageSchema, tokenResponseSchema, type OpenedxConfig } from './schema.ts';

export const TOKEN = 'POST /oauth2/access_token';
export const CREDENTIALS = 'GET /api/v2/credentials/';
export const PROGRAMS = 'GET /api/v1/programs/';
export const COURSE_RUNS = 'GET /api/v1/course_runs/';
export const PAGE_SIZE = 100;

export interface TokenSource {
  get(signal?: AbortSignal): Promise<string>;
  invalidate(): void;
}

export function createTokenSource(http: ProviderHttpClient, config: OpenedxConfig, now: () => Date): TokenSource {
  let cached: { token: string; expiresAt: number } | null = null;
  return {
    async get(signal) {
      if (cached && now().getTime() < cached.expiresAt) return cached.token;
      // POST <oauth.token_url>  grant_type=client_credentials&client_id=..&client_secret=..&token_type=jwt
      const res = await http.request<unknown>({
        method: 'POST',
        url: config.oauth.token_url,
        form: { grant_type: 'client_credentials', client_id: config.oauth.client_id, client_secret: config.oauth.client_secret, token_type: 'jwt' },
        endpoint: TOKEN,
        ...(signal === undefined ? {} : { signal }),
      });
      const body = parsePayload(TOKEN, tokenResponseSchema, res.data);
      http.addSecrets(body.access_token);
      // Renew a minute early (or at half-life for short tokens) so a page is never sent with a dying token.
      const lifeMs = (body.expires_in ?? 300) * 1000;
      cached = { token: body.access_token, expiresAt: now().getTime() + Math.max(lifeMs / 2, lifeMs - 60_000) };
      return cached.token;
    },
    invalidate() {
      cached = null;
    },
  };
}

/** A GET with the JWT; on 401 the token is fetched again and the request sent once more. */
async function authorizedGet<S extends z.ZodType>(http: ProviderHttpClient, tokens: TokenSource, url: string, endpoint: string, schema: S, signal?: AbortSignal): Promise<z.output<S>> {
  for (let attempt = 0; ; attempt++) {
    const token = await tokens.get(signal);
    const res = await http.request<unknown>({ method: 'GET', url, headers: { authorization: `JWT ${token}` }, endpoint, expectStatus: [200, 401], ...(signal === undefined ? {} : { signal }) });
    if (res.status !== 401) return parsePayload(endpoint, schema, res.data);
    tokens.invalidate();
    if (attempt >= 1) throw new AppError('provider_error', 'Open edX rejected the client credentials (401 with a fresh token)', { details: { endpoint, status: 401 } });
  }
}

// GET <base_url>/api/v2/credentials/?page_size=100, then each `next` link as given
export function credentialsFirstPage(config: OpenedxConfig): string {
  return `${endpointUrl(config.base_url, 'api/v2/credentials/')}?page_size=${PAGE_SIZE}`;
}

export function getCredentialsPage(http: ProviderHttpClient, tokens: TokenSource, url: string, signal?: AbortSignal): Promise<z.output<typeof credentialsPageSchema>> {
  return authorizedGet(http, tokens, url, CREDENTIALS, credentialsPageSchema, signal);
}

// GET <catalog_url>/api/v1/programs/?uuids=a,b&page_size=100
export async function programTitles(http: ProviderHttpClient, tokens: TokenSource, config: OpenedxConfig, uuids: string[], signal?: AbortSignal): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (let i = 0; i < uuids.length; i += PAGE_SIZE) {
    const url = `${endpointUrl(config.catalog_url ?? config.base_url, 'api/v1/programs/')}?page_size=${PAGE_SIZE}&uuids=${uuids.slice(i, i + PAGE_SIZE).map(encodeURIComponent).join(',')}`;
    for (const p of (await authorizedGet(http, tokens, url, PROGRAMS, programsPageSchema, signal)).results) out.set(p.uuid.toLowerCase(), p.title ?? null);
  }
  return out;
}

// GET <catalog_url>/api/v1/course_runs/?keys=a,b&page_size=100
export async function courseRunTitles(http: ProviderHttpClient, tokens: TokenSource, config: OpenedxConfig, keys: string[], signal?: AbortSignal): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (let i = 0; i < keys.length; i += PAGE_SIZE) {
    const url = `${endpointUrl(config.catalog_url ?? config.base_url, 'api/v1/course_runs/')}?page_size=${PAGE_SIZE}&keys=${keys.slice(i, i + PAGE_SIZE).map(encodeURIComponent).join(',')}`;
    for (const r of (await authorizedGet(http, tokens, url, COURSE_RUNS, courseRunsPageSchema, signal)).results) out.set(r.key, r.title ?? null);
  }
  return out;
}
