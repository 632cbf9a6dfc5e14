/**
 * Open edX endpoints (openedx-credentials.txt), one function each, all through the shared ProviderHttpClient.
 * Auth: `Authorization: JWT <token>` from the LMS token endpoint (client_credentials, token_type=jwt), cached
 * until shortly before it expires; a 401 fetches a new token and sends the request once more.
 */
import type { z } from 'zod';
import { AppError } from '../../errors.ts';
import { endpointUrl, parsePayload, type HttpMethod, type ProviderHttpClient, type QueryValue } from '../http/index.ts';
import {
  bulkLearnerCertStatusSchema,
  courseRunsPageSchema,
  credentialSchema,
  credentialsPageSchema,
  learnerCertStatusSchema,
  programsPageSchema,
  tokenResponseSchema,
  type Credential,
  type CredentialsPage,
  type LearnerCertStatus,
  type OpenedxConfig,
} from './schema.ts';

export const TOKEN = 'POST /oauth2/access_token';
export const LIST_CREDENTIALS = 'GET /api/v2/credentials/';
export const GET_CREDENTIAL = 'GET /api/v2/credentials/:uuid';
export const CREATE_CREDENTIAL = 'POST /api/v2/credentials/';
export const UPDATE_CREDENTIAL = 'PATCH /api/v2/credentials/:uuid';
export const LEARNER_CERT_STATUS = 'POST /api/credentials/v1/learner_cert_status/';
export const BULK_LEARNER_CERT_STATUS = 'POST /api/credentials/v1/bulk_learner_cert_status/';
export const CATALOG_PROGRAMS = 'GET /api/v1/programs/';
export const CATALOG_COURSE_RUNS = 'GET /api/v1/course_runs/';

/** DRF's usual `max_page_size`; a bigger page_size is capped by the server anyway. */
export const PAGE_SIZE = 100;
/** A token is renewed this long before it expires, so no request is sent with a dying token. */
const RENEW_EARLY_MS = 60_000;
/** RFC 6749 makes expires_in optional; without it, assume the LMS default of one hour. */
const DEFAULT_TOKEN_LIFE_S = 3600;

/** One account's session: the config, the HTTP client and the cached JWT. Built per run (no module state). */
export interface OpenedxSession {
  readonly http: ProviderHttpClient;
  readonly config: OpenedxConfig;
  /** A valid JWT (cached or fetched). */
  token(signal?: AbortSignal): Promise<string>;
  /** Forget the cached token (the API answered 401). */
  invalidate(): void;
}

export function createOpenedxSession(http: ProviderHttpClient, config: OpenedxConfig, now: () => Date = () => new Date()): OpenedxSession {
  let cached: { token: string; renewAt: number } | null = null;
  let inflight: Promise<string> | null = null;
  const fetchToken = async (signal?: AbortSignal): Promise<string> => {
    // POST <oauth.token_url>   grant_type=client_credentials&client_id=…&client_secret=…&token_type=jwt (form)
    const res = await http.request<unknown>({
      method: 'POST',
      url: config.oauth.token_url,
      form: { grant_type: 'client_credentials', client_id: config.oauth.client_id, client_secret: config.oauth.client_secret, token_type: 'jwt' },
      endpoint: TOKEN,
      expectStatus: [200, 401],
      // Asking for a token twice changes nothing on the LMS.
      idempotent: true,
      ...(signal === undefined ? {} : { signal }),
    });
    if (res.status !== 200) throw rejected(TOKEN, res.status);
    const body = parsePayload(TOKEN, tokenResponseSchema, res.data);
    http.addSecrets(body.access_token);
    const lifeMs = (body.expires_in ?? DEFAULT_TOKEN_LIFE_S) * 1000;
    // Short-lived tokens are renewed at half-life instead (a minute early would be before they were issued).
    cached = { token: body.access_token, renewAt: now().getTime() + Math.max(lifeMs / 2, lifeMs - RENEW_EARLY_MS) };
    return body.access_token;
  };
  return {
    http,
    config,
    async token(signal) {
      if (cached !== null && now().getTime() < cached.renewAt) return cached.token;
      // Concurrent callers share one token request.
      inflight ??= fetchToken(signal).finally(() => {
        inflight = null;
      });
      return inflight;
    },
    invalidate() {
      cached = null;
    },
  };
}

function rejected(endpoint: string, status: number): AppError {
  return new AppError('provider_error', 'Open edX rejected the client credentials', { details: { endpoint, status } });
}

interface AuthorizedRequest {
  method: HttpMethod;
  url: string;
  endpoint: string;
  query?: Record<string, QueryValue>;
  json?: unknown;
  /** Statuses besides 2xx handed back to the caller (e.g. 404 for an unknown page). */
  alsoAccept?: number[];
  idempotent?: boolean;
  signal?: AbortSignal | undefined;
}

/** Sends with the JWT; on 401 gets a new token and sends once more; a second 401 means the client is refused. */
async function authorized(session: OpenedxSession, req: AuthorizedRequest): Promise<{ status: number; data: unknown }> {
  for (let attempt = 0; ; attempt++) {
    const token = await session.token(req.signal);
    const res = await session.http.request<unknown>({
      method: req.method,
      url: req.url,
      headers: { authorization: `JWT ${token}` },
      endpoint: req.endpoint,
      expectStatus: [200, 201, 401, ...(req.alsoAccept ?? [])],
      ...(req.query === undefined ? {} : { query: req.query }),
      ...(req.json === undefined ? {} : { json: req.json }),
      ...(req.idempotent === undefined ? {} : { idempotent: req.idempotent }),
      ...(req.signal === undefined ? {} : { signal: req.signal }),
    });
    if (res.status !== 401) return { status: res.status, data: res.data };
    // "A connector must re-fetch a token on 401": expired, or the LMS rotated its signing key.
    session.invalidate();
    if (attempt >= 1) throw rejected(req.endpoint, 401);
  }
}

/**
 * Validates the answer and hands back the answer ITSELF, not zod's copy: these schemas have no transforms or
 * defaults, so the original has the validated type, and it keeps the provider's key order and every field
 * (a certificate's `raw` must be the item exactly as served).
 */
function parsed<S extends z.ZodType>(endpoint: string, schema: S, res: { status: number; data: unknown }): z.output<S> {
  parsePayload(endpoint, schema, res.data);
  return res.data as z.output<S>;
}

function api(session: OpenedxSession, path: string): string {
  return endpointUrl(session.config.base_url, path);
}

function catalog(session: OpenedxSession, path: string): string {
  return endpointUrl(session.config.catalog_url ?? session.config.base_url, path);
}

// ---- credentials --------------------------------------------------------------------------------------------------

/** The first page of the full list, or page `page` (a resumed scan), `pageSize` credentials a page. */
export function credentialsPageUrl(config: OpenedxConfig, page = 1, pageSize = PAGE_SIZE): string {
  const url = new URL(endpointUrl(config.base_url, 'api/v2/credentials/'));
  // DRF re-encodes `next` with sorted keys; the order does not matter to the server.
  if (page > 1) url.searchParams.set('page', String(page));
  url.searchParams.set('page_size', String(pageSize));
  return url.toString();
}

/**
 * GET <base_url>/api/v2/credentials/?page_size=100, then each `next` link as given.
 * null: `404 {"detail": "Invalid page."}` (the list shrank below this page since the link was made).
 */
export async function listCredentialsPage(session: OpenedxSession, url: string, signal?: AbortSignal): Promise<CredentialsPage | null> {
  // The `next` link comes from the provider's answer: the token goes only to the origin it was configured for.
  if (new URL(url).origin !== new URL(session.config.base_url).origin) {
    throw new AppError('provider_error', `${LIST_CREDENTIALS} answered with a next link to another origin than base_url; certhub sends its token only to base_url`);
  }
  const res = await authorized(session, { method: 'GET', url, endpoint: LIST_CREDENTIALS, alsoAccept: [404], signal });
  if (res.status === 404) return null;
  return parsed(LIST_CREDENTIALS, credentialsPageSchema, res);
}

/** GET <base_url>/api/v2/credentials/:uuid  -> the credential, or null when unknown / deleted (404). */
export async function getCredential(session: OpenedxSession, uuid: string, signal?: AbortSignal): Promise<Credential | null> {
  const res = await authorized(session, { method: 'GET', url: api(session, `api/v2/credentials/${encodeURIComponent(uuid)}`), endpoint: GET_CREDENTIAL, alsoAccept: [404], signal });
  return res.status === 404 ? null : parsed(GET_CREDENTIAL, credentialSchema, res);
}

export interface CreateCredentialInput {
  username: string;
  credential: { program_uuid: string } | { course_run_key: string; mode?: string };
  status?: 'awarded' | 'revoked';
  attributes?: { name: string; value: string }[];
  lms_user_id?: number;
}

/**
 * POST <base_url>/api/v2/credentials/  {"username", "credential": {...}, "attributes"?}  -> 201 with the credential.
 * Retried like a GET: Open edX upserts on (username, program / run), so sending it twice awards once (same uuid).
 * A 400 (unknown program or run, bad attributes) is an AppError('provider_error') carrying Open edX's field errors.
 */
export async function createCredential(session: OpenedxSession, input: CreateCredentialInput, signal?: AbortSignal): Promise<Credential> {
  const res = await authorized(session, { method: 'POST', url: api(session, 'api/v2/credentials/'), endpoint: CREATE_CREDENTIAL, json: input, idempotent: true, signal });
  return parsed(CREATE_CREDENTIAL, credentialSchema, res);
}

/** PATCH <base_url>/api/v2/credentials/:uuid  {"status": "awarded" | "revoked"} (the only field the doc allows). */
export async function setCredentialStatus(session: OpenedxSession, uuid: string, status: 'awarded' | 'revoked', signal?: AbortSignal): Promise<Credential> {
  const res = await authorized(session, { method: 'PATCH', url: api(session, `api/v2/credentials/${encodeURIComponent(uuid)}`), endpoint: UPDATE_CREDENTIAL, json: { status }, signal });
  return parsed(UPDATE_CREDENTIAL, credentialSchema, res);
}

/** PATCH <base_url>/api/v2/credentials/:uuid  {"status": "revoked"} */
export function revokeCredential(session: OpenedxSession, uuid: string, signal?: AbortSignal): Promise<Credential> {
  return setCredentialStatus(session, uuid, 'revoked', signal);
}

/** Exactly one of username / lms_user_id; at least one of courses (course uuids) / course_runs (run keys). */
export type LearnerCertStatusQuery = ({ username: string; lms_user_id?: never } | { lms_user_id: number; username?: never }) & {
  courses?: string[];
  course_runs?: string[];
};

/** POST <base_url>/api/credentials/v1/learner_cert_status/  -> the learner's earned certificates (unknown: empty). */
export async function learnerCertStatus(session: OpenedxSession, query: LearnerCertStatusQuery, signal?: AbortSignal): Promise<LearnerCertStatus> {
  // A read: safe to send again.
  const res = await authorized(session, { method: 'POST', url: api(session, 'api/credentials/v1/learner_cert_status/'), endpoint: LEARNER_CERT_STATUS, json: query, idempotent: true, signal });
  return parsed(LEARNER_CERT_STATUS, learnerCertStatusSchema, res);
}

/** POST <base_url>/api/credentials/v1/bulk_learner_cert_status/  [query, ...] -> one answer per query, in order. */
export async function bulkLearnerCertStatus(session: OpenedxSession, queries: LearnerCertStatusQuery[], signal?: AbortSignal): Promise<LearnerCertStatus[]> {
  if (queries.length === 0) return [];
  const res = await authorized(session, { method: 'POST', url: api(session, 'api/credentials/v1/bulk_learner_cert_status/'), endpoint: BULK_LEARNER_CERT_STATUS, json: queries, idempotent: true, signal });
  const answers = parsed(BULK_LEARNER_CERT_STATUS, bulkLearnerCertStatusSchema, res);
  if (answers.length !== queries.length) {
    throw new AppError('provider_error', `${BULK_LEARNER_CERT_STATUS} returned ${answers.length} answers for ${queries.length} queries`);
  }
  return answers;
}

// ---- catalog (course-discovery): titles ---------------------------------------------------------------------------

/**
 * Programs by lower-case uuid -> title, and the runs of their courses by key -> title (the course's: discovery
 * lists them inside each program, so later pages need not ask for them).
 * GET <catalog_url>/api/v1/programs/?uuids=a,b&page_size=100 (100 uuids a request).
 */
export async function programTitles(session: OpenedxSession, uuids: readonly string[], signal?: AbortSignal): Promise<{ programs: Map<string, string | null>; runs: Map<string, string | null> }> {
  const programs = new Map<string, string | null>();
  const runs = new Map<string, string | null>();
  for (let i = 0; i < uuids.length; i += PAGE_SIZE) {
    const query = { uuids: uuids.slice(i, i + PAGE_SIZE).join(','), page_size: PAGE_SIZE };
    const page = parsed(CATALOG_PROGRAMS, programsPageSchema, await authorized(session, { method: 'GET', url: catalog(session, 'api/v1/programs/'), endpoint: CATALOG_PROGRAMS, query, signal }));
    for (const p of page.results) {
      programs.set(p.uuid.toLowerCase(), p.title ?? null);
      for (const course of p.courses ?? []) for (const run of course.course_runs ?? []) runs.set(run.key, run.title ?? course.title ?? null);
    }
  }
  return { programs, runs };
}

/**
 * Run key -> title (the course's). GET <catalog_url>/api/v1/course_runs/?keys=a,b&page_size=100.
 * The query is URL-encoded, so a key's `+` goes out as `%2B` (a bare `+` would read as a space).
 */
export async function courseRunTitles(session: OpenedxSession, keys: readonly string[], signal?: AbortSignal): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (let i = 0; i < keys.length; i += PAGE_SIZE) {
    const query = { keys: keys.slice(i, i + PAGE_SIZE).join(','), page_size: PAGE_SIZE };
    const page = parsed(CATALOG_COURSE_RUNS, courseRunsPageSchema, await authorized(session, { method: 'GET', url: catalog(session, 'api/v1/course_runs/'), endpoint: CATALOG_COURSE_RUNS, query, signal }));
    for (const r of page.results) out.set(r.key, r.title ?? null);
  }
  return out;
}
