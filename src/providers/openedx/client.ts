/**
 * Open edX endpoints (openedx-credentials.txt; behaviour as openedx/credentials implements it), one function each, all
 * through the shared ProviderHttpClient.
 * Auth: `Authorization: JWT <token>` from the LMS token endpoint (client_credentials, token_type=jwt), cached
 * until shortly before it expires; a 401 fetches a new token and sends the request once more. A 403 is a missing
 * Django permission of the client's service user: reported as such, never retried (a new token would not help).
 * Paths end in `/`: Django's APPEND_SLASH answers the slash-less ones with a 301.
 */
import type { z } from 'zod';
import { AppError, isAppError } from '../../errors.ts';
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
export const GET_CREDENTIAL = 'GET /api/v2/credentials/:uuid/';
export const CREATE_CREDENTIAL = 'POST /api/v2/credentials/';
export const UPDATE_CREDENTIAL = 'PATCH /api/v2/credentials/:uuid/';
export const LEARNER_CERT_STATUS = 'POST /api/credentials/v1/learner_cert_status/';
export const BULK_LEARNER_CERT_STATUS = 'POST /api/credentials/v1/bulk_learner_cert_status/';
export const CATALOG_PROGRAMS = 'GET /api/v1/programs/';
export const CATALOG_COURSE_RUNS = 'GET /api/v1/course_runs/';

/** Uuids (run keys) a catalog request asks for at once. Credential pages are as long as the server makes them. */
export const CATALOG_BATCH = 100;
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

/**
 * What a 403 on `endpoint` means (openedx/credentials credentials/apps/api/v2/permissions.py: DjangoModelPermissions;
 * the learner status views admit staff and the configured worker user only).
 */
function permissionNeeded(endpoint: string): string {
  if (endpoint === LEARNER_CERT_STATUS || endpoint === BULK_LEARNER_CERT_STATUS) return 'staff status (or being the configured learner-status worker)';
  if (endpoint === CREATE_CREDENTIAL) return 'the permission credentials.add_usercredential';
  if (endpoint === UPDATE_CREDENTIAL) return 'the permission credentials.change_usercredential';
  if (endpoint === CATALOG_PROGRAMS || endpoint === CATALOG_COURSE_RUNS) return 'read access to the course-discovery catalog';
  return 'the permission credentials.view_usercredential';
}

function forbidden(endpoint: string): AppError {
  return new AppError(
    'forbidden',
    `Open edX refused ${endpoint} (403): the OAuth client's service user lacks ${permissionNeeded(endpoint)}; grant it in the Credentials service's Django admin`,
    { details: { endpoint, status: 403 } },
  );
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
      expectStatus: [200, 201, 401, 403, ...(req.alsoAccept ?? [])],
      ...(req.query === undefined ? {} : { query: req.query }),
      ...(req.json === undefined ? {} : { json: req.json }),
      ...(req.idempotent === undefined ? {} : { idempotent: req.idempotent }),
      ...(req.signal === undefined ? {} : { signal: req.signal }),
    });
    if (res.status === 403) throw forbidden(req.endpoint);
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

/** A course-discovery URL: only with `catalog_url` configured (discovery is a service of its own, on its own host). */
function catalog(session: OpenedxSession, path: string): string {
  const base = session.config.catalog_url;
  if (base === undefined) throw new AppError('invalid_config', 'no catalog_url (the course-discovery service) is configured');
  return endpointUrl(base, path);
}

/** The path of one credential: `api/v2/credentials/<uuid>/`, with the slash Django's APPEND_SLASH wants. */
function credentialPath(uuid: string): string {
  return `api/v2/credentials/${encodeURIComponent(uuid)}/`;
}

// ---- credentials --------------------------------------------------------------------------------------------------

/**
 * The first page of the full list, or page `page` (a resumed scan). No `page_size`: the service's PageNumberPagination
 * has no page_size parameter (settings PAGE_SIZE, 20 unless the operator changed it), so pages are what it serves.
 */
export function credentialsPageUrl(config: OpenedxConfig, page = 1): string {
  const url = new URL(endpointUrl(config.base_url, 'api/v2/credentials/'));
  if (page > 1) url.searchParams.set('page', String(page));
  return url.toString();
}

/**
 * GET <base_url>/api/v2/credentials/, then each `next` link as given.
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

/** GET <base_url>/api/v2/credentials/:uuid/  -> the credential, or null when unknown / deleted (404). */
export async function getCredential(session: OpenedxSession, uuid: string, signal?: AbortSignal): Promise<Credential | null> {
  const res = await authorized(session, { method: 'GET', url: api(session, credentialPath(uuid)), endpoint: GET_CREDENTIAL, alsoAccept: [404], signal });
  return res.status === 404 ? null : parsed(GET_CREDENTIAL, credentialSchema, res);
}

/** What a lookup of one credential found: it, its absence (DRF's JSON 404), or no answer to go by (another 404). */
export type CredentialLookup = { kind: 'found'; credential: Credential } | { kind: 'gone' } | { kind: 'unknown'; reason: string };

/**
 * GET <base_url>/api/v2/credentials/:uuid/ for a credential the list did not show. Only DRF's own 404 (JSON, `{"detail":
 * "Not found."}`) says it is gone; a 404 page that is no JSON (the path is not routed there, a proxy's page) says
 * nothing about the credential.
 */
export async function lookupCredential(session: OpenedxSession, uuid: string, signal?: AbortSignal): Promise<CredentialLookup> {
  try {
    const credential = await getCredential(session, uuid, signal);
    return credential === null ? { kind: 'gone' } : { kind: 'found', credential };
  } catch (err) {
    const status = isAppError(err) ? (err.details as { status?: unknown } | undefined)?.status : undefined;
    if (status === 404) return { kind: 'unknown', reason: `${GET_CREDENTIAL} answered 404 with no JSON` };
    throw err;
  }
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

/**
 * PATCH <base_url>/api/v2/credentials/:uuid/  {"status": "awarded" | "revoked"}. The service changes only `status`
 * (other fields are ignored, not refused), so only status is sent.
 */
export async function setCredentialStatus(session: OpenedxSession, uuid: string, status: 'awarded' | 'revoked', signal?: AbortSignal): Promise<Credential> {
  const res = await authorized(session, { method: 'PATCH', url: api(session, credentialPath(uuid)), endpoint: UPDATE_CREDENTIAL, json: { status }, signal });
  return parsed(UPDATE_CREDENTIAL, credentialSchema, res);
}

/** PATCH <base_url>/api/v2/credentials/:uuid/  {"status": "revoked"} */
export function revokeCredential(session: OpenedxSession, uuid: string, signal?: AbortSignal): Promise<Credential> {
  return setCredentialStatus(session, uuid, 'revoked', signal);
}

/** Exactly one of username / lms_user_id; at least one of courses (course uuids) / course_runs (run keys). */
export type LearnerCertStatusQuery = ({ username: string; lms_user_id?: never } | { lms_user_id: number; username?: never }) & {
  courses?: string[];
  course_runs?: string[];
};

/**
 * The rules the service does not check for us, checked before sending: exactly one of username / lms_user_id (both
 * get a 400 with an empty body), and at least one course or run (the service answers an empty status instead).
 */
export function checkLearnerCertStatusQuery(query: LearnerCertStatusQuery, label = 'learner status query'): void {
  const hasName = typeof query.username === 'string' && query.username.trim() !== '';
  const hasId = typeof query.lms_user_id === 'number' && Number.isInteger(query.lms_user_id) && query.lms_user_id > 0;
  if (hasName === hasId) throw new AppError('invalid_request', `${label}: give exactly one of username and lms_user_id`);
  const courses = query.courses ?? [];
  const runs = query.course_runs ?? [];
  if (courses.length + runs.length === 0) throw new AppError('invalid_request', `${label}: name at least one course or course run`);
  if ([...courses, ...runs].some((k) => typeof k !== 'string' || k.trim() === '')) throw new AppError('invalid_request', `${label}: a course or course run is empty`);
}

/** POST <base_url>/api/credentials/v1/learner_cert_status/  -> the learner's earned certificates (unknown: empty). */
export async function learnerCertStatus(session: OpenedxSession, query: LearnerCertStatusQuery, signal?: AbortSignal): Promise<LearnerCertStatus> {
  checkLearnerCertStatusQuery(query);
  // A read: safe to send again.
  const res = await authorized(session, { method: 'POST', url: api(session, 'api/credentials/v1/learner_cert_status/'), endpoint: LEARNER_CERT_STATUS, json: query, idempotent: true, signal });
  return parsed(LEARNER_CERT_STATUS, learnerCertStatusSchema, res);
}

/** POST <base_url>/api/credentials/v1/bulk_learner_cert_status/  [query, ...] -> one answer per query, in order. */
export async function bulkLearnerCertStatus(session: OpenedxSession, queries: LearnerCertStatusQuery[], signal?: AbortSignal): Promise<LearnerCertStatus[]> {
  if (queries.length === 0) return [];
  // One bad entry makes the service answer the whole request with an HTML 400 (a non-list body even with a 500).
  queries.forEach((q, i) => checkLearnerCertStatusQuery(q, `learner status query ${i + 1}`));
  const res = await authorized(session, { method: 'POST', url: api(session, 'api/credentials/v1/bulk_learner_cert_status/'), endpoint: BULK_LEARNER_CERT_STATUS, json: queries, idempotent: true, signal });
  const answers = parsed(BULK_LEARNER_CERT_STATUS, bulkLearnerCertStatusSchema, res);
  if (answers.length !== queries.length) {
    throw new AppError('provider_error', `${BULK_LEARNER_CERT_STATUS} returned ${answers.length} answers for ${queries.length} queries`);
  }
  return answers;
}

// ---- catalog (course-discovery, at catalog_url): titles -----------------------------------------------------------

/**
 * Programs by lower-case uuid -> title, and the runs of their courses by key -> title (the course's: discovery
 * lists them inside each program, so later pages need not ask for them).
 * GET <catalog_url>/api/v1/programs/?uuids=a,b&page_size=100 (100 uuids a request).
 */
export async function programTitles(session: OpenedxSession, uuids: readonly string[], signal?: AbortSignal): Promise<{ programs: Map<string, string | null>; runs: Map<string, string | null> }> {
  const programs = new Map<string, string | null>();
  const runs = new Map<string, string | null>();
  for (let i = 0; i < uuids.length; i += CATALOG_BATCH) {
    const query = { uuids: uuids.slice(i, i + CATALOG_BATCH).join(','), page_size: CATALOG_BATCH };
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
  for (let i = 0; i < keys.length; i += CATALOG_BATCH) {
    const query = { keys: keys.slice(i, i + CATALOG_BATCH).join(','), page_size: CATALOG_BATCH };
    const page = parsed(CATALOG_COURSE_RUNS, courseRunsPageSchema, await authorized(session, { method: 'GET', url: catalog(session, 'api/v1/course_runs/'), endpoint: CATALOG_COURSE_RUNS, query, signal }));
    for (const r of page.results) out.set(r.key, r.title ?? null);
  }
  return out;
}
