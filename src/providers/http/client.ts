/**
 * The one HTTP client every provider uses (undici): account-wide pacing through a shared limiter,
 * retries with full-jitter backoff that honour Retry-After, timeouts, a response size cap, per-client
 * stats, redaction of credentials from every error and log line it produces, and the egress policy (egress.ts) on
 * every connection it opens.
 */
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, buildConnector, request as undiciRequest, type Dispatcher } from 'undici';
import { AppError } from '../../errors.ts';
import { jsonDeeperThan } from '../../json-depth.ts';
import { createEgressGuard, egressRefusal, REFUSE_PRIVATE_EGRESS, type EgressGuard, type EgressPolicy, type Resolve } from './egress.ts';
import { BodyTooLargeError, cappedStream, discard, readCapped, readHead } from './body.ts';
import type { Limiter } from './limiter.ts';
import { redact, redactError, isSensitiveKey } from '../../redact.ts';
import { backoffDelay, DEFAULT_RETRY, networkReason, parseRetryAfter, RETRYABLE_STATUS, retryableNetworkReason, type RetryPolicy } from './retry.ts';
import { createHttpStats, type HttpStats } from './stats.ts';

export type { HttpStats } from './stats.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

export interface ProviderRequest {
  method: HttpMethod;
  url: string | URL;
  headers?: Record<string, string>;
  /** Appended to the URL's query string; null / undefined skipped, arrays repeat the key. */
  query?: Record<string, QueryValue>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string> | URLSearchParams;
  /** Sent as is (multipart for FormData). Streams are not accepted: a retry must be able to resend the body. */
  body?: Buffer | Uint8Array | string | FormData;
  /** Counter and log name, e.g. `GET /v2/diplomas`. Never contains ids or secrets. */
  endpoint: string;
  /** Default `json`. `stream` hands back the body unread (size cap still enforced while it flows). */
  parse?: 'json' | 'text' | 'buffer' | 'stream';
  /** Statuses that count as success. Default: any 2xx. */
  expectStatus?: number[];
  /**
   * Default true. False for calls that must not run twice (a POST that creates something): they
   * are retried only when the server surely did not act (429, connection never established).
   */
  idempotent?: boolean;
  /** A limiter acquired in addition to the client's (e.g. Springest's 30 posts per minute). */
  limiter?: Limiter;
  signal?: AbortSignal;
}

export interface ProviderResponse<T> {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  data: T;
}

export interface HttpLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface HttpTimeouts {
  connectMs: number;
  /** Until the response headers arrive. */
  headersMs: number;
  /** Longest silence while the body arrives. */
  bodyMs: number;
  /**
   * The whole of one attempt, from sending to the last byte of the answer (to the headers for a streamed download): a
   * provider that drips a byte now and then never trips `bodyMs`, and would hold a run (and its lock) for ever.
   */
  totalMs: number;
}

export interface ProviderHttpClientOptions {
  /** The account's shared bucket (from a LimiterRegistry). Without one, requests are not paced. */
  limiter?: Limiter;
  retry?: Partial<RetryPolicy>;
  timeouts?: Partial<HttpTimeouts>;
  /** Default 50 MB. */
  maxResponseBytes?: number;
  /** Values never to print (API keys, tokens, client secrets). */
  secrets?: readonly string[];
  logger?: HttpLogger;
  /** Aborts every request of this client (shutdown, cancelled sync run). */
  signal?: AbortSignal;
  userAgent?: string;
  /**
   * Which addresses it may connect to. Default REFUSE_PRIVATE_EGRESS (public addresses only): the connector passes
   * certhub.yaml's `outbound:`, and tests against simulators on 127.0.0.1 pass ALLOW_PRIVATE_EGRESS.
   */
  egress?: EgressPolicy;
  /** How names are resolved for the egress check (default: the system resolver). Tests inject one. */
  resolve?: Resolve;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface ProviderHttpClient {
  request<T = unknown>(req: ProviderRequest): Promise<ProviderResponse<T>>;
  stats(): HttpStats;
  resetStats(): void;
  /** Secrets learned later (an OAuth access token): redacted from then on. */
  addSecrets(...values: string[]): void;
  /** `text` with this client's secrets and any credential-looking parameter or header redacted. */
  redact(text: string): string;
  /** Closes the keep-alive connections. */
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000, totalMs: 180_000 };

/** One request as every attempt at it sends it; `known` are the secrets to scrub from what it reports. */
interface AttemptInput {
  req: ProviderRequest;
  url: URL;
  headers: Record<string, string>;
  body: Dispatcher.DispatchOptions['body'];
  known: readonly string[];
}

/** Why an attempt was cut off by the whole-attempt deadline (HttpTimeouts.totalMs). */
class AttemptDeadline extends Error {}
export const DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024;
/** No provider's payload nests anywhere near this deep. */
export const MAX_PROVIDER_JSON_DEPTH = 64;
/**
 * Characters of a provider's error body kept in `details.body` (logged after redaction). Never in the message: that
 * reaches API callers, and a body could be an internal page's text (issue 13, finding 2).
 */
const ERROR_BODY_KEEP = 1000;

type Attempt =
  | { kind: 'done'; response: ProviderResponse<unknown> }
  | { kind: 'retry'; reason: string; retryAfterMs: number | null; status: number | null; body: string | null; cause: unknown };

function buildUrl(url: string | URL, query: ProviderRequest['query']): URL {
  const u = new URL(url);
  // `https://user:pass@host` is a credential (issue 13): certhub.yaml refuses one, and one in a provider's link is not sent.
  u.username = '';
  u.password = '';
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value as readonly (string | number | boolean)[]) u.searchParams.append(key, String(v));
    else u.searchParams.append(key, String(value));
  }
  return u;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Credentials this request carries, wherever they sit: redacted even if the caller did not list them. */
function requestSecrets(url: URL, headers: Record<string, string>, form: ProviderRequest['form']): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (!isSensitiveKey(k)) continue;
    out.push(v);
    const space = v.indexOf(' ');
    if (space > 0) out.push(v.slice(space + 1).trim()); // `Basic <token>`, `JWT <token>`
  }
  for (const [k, v] of url.searchParams) if (isSensitiveKey(k)) out.push(v);
  const formEntries = form instanceof URLSearchParams ? [...form] : Object.entries(form ?? {});
  for (const [k, v] of formEntries) if (isSensitiveKey(k)) out.push(v);
  return out;
}

/**
 * An undici connector that opens a socket only to addresses the egress guard accepts: an IP literal is checked as it
 * is, a name is resolved once by the guard's lookup, which checks every address and hands net exactly those, so the
 * address connected is the address checked.
 */
/** A connector that checks every address it connects to against the egress policy (names: in the lookup; literals: here). */
export function guardedConnector(guard: EgressGuard, timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs, lookup: guard.lookup });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
    // net never calls `lookup` for an IP literal: check it here. A name is resolved and checked once, in the lookup.
    if (isIP(host) !== 0) {
      try {
        guard.checkAddress(host, host);
      } catch (err) {
        callback(err as Error, null);
        return;
      }
    }
    connect(options, callback);
  };
}

export function createProviderHttpClient(opts: ProviderHttpClientOptions = {}): ProviderHttpClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new AppError('invalid_config', 'retry.maxAttempts must be a positive integer');
  const timeouts: HttpTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const secrets = new Set<string>((opts.secrets ?? []).filter((s) => s !== ''));
  const sleep = opts.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, signal ? { signal } : undefined));
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const userAgent = opts.userAgent ?? 'certhub/0.1';
  const stats = createHttpStats();
  // One keep-alive pool per client; per-request timeouts below override the defaults given here.
  const guard = createEgressGuard({ policy: opts.egress ?? REFUSE_PRIVATE_EGRESS, ...(opts.resolve === undefined ? {} : { resolve: opts.resolve }) });
  const agent = new Agent({
    connect: guardedConnector(guard, timeouts.connectMs),
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    keepAliveTimeout: 10_000,
  });

  /** One attempt, cut off after `timeouts.totalMs`: a retryable failure for an idempotent call, else unavailable. */
  async function attemptWithinDeadline(attempt: AttemptInput, signal: AbortSignal | undefined): Promise<Attempt> {
    const { req } = attempt;
    const deadline = new AbortController();
    const seconds = Math.round(timeouts.totalMs / 1000);
    const timer = setTimeout(() => deadline.abort(new AttemptDeadline(`no complete answer within ${seconds} s`)), timeouts.totalMs);
    timer.unref();
    try {
      return await attemptOnce(attempt, signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]));
    } catch (err) {
      if (!(err instanceof AttemptDeadline) || signal?.aborted) throw err;
      if (req.idempotent ?? true) return { kind: 'retry', reason: err.message, retryAfterMs: null, status: null, body: null, cause: undefined };
      throw new AppError('provider_unavailable', `${req.endpoint} failed: ${err.message}`, { details: { endpoint: req.endpoint } });
    } finally {
      clearTimeout(timer);
    }
  }

  async function attemptOnce({ req, url, headers, body, known }: AttemptInput, signal: AbortSignal | undefined): Promise<Attempt> {
    const scrub = (text: string): string => redact(text, known);
    const idempotent = req.idempotent ?? true;
    const parse = req.parse ?? 'json';
    const endpoint = req.endpoint;
    const tooLarge = (): AppError =>
      new AppError('provider_error', `response from ${endpoint} exceeds ${maxBytes} bytes`, { details: { endpoint, limit: maxBytes } });
    const started = now();

    let res: Dispatcher.ResponseData;
    try {
      res = await undiciRequest(url, {
        dispatcher: agent,
        method: req.method,
        headers,
        body,
        signal: signal ?? null,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const refused = egressRefusal(err);
      if (refused !== null) {
        // Never retried, and nothing here names an address or port: only the endpoint and what to configure.
        const what = refused.metadata
          ? 'the address is a cloud metadata endpoint; list it in outbound.allow to allow it'
          : 'the address is private, loopback, link-local or otherwise not public; set outbound.allow_private: true or list the host or its network in outbound.allow to allow it';
        throw new AppError('provider_error', `${endpoint}: certhub's egress policy refused the connection: ${what}`, {
          details: { endpoint, host: refused.host, egress: 'refused' },
        });
      }
      const reason = retryableNetworkReason(err, idempotent);
      if (reason !== null) return { kind: 'retry', reason: scrub(reason), retryAfterMs: null, status: null, body: null, cause: err };
      throw new AppError('provider_unavailable', scrub(`${endpoint} failed: ${networkReason(err)}`), {
        details: { endpoint, url: scrub(url.toString()) },
        cause: redactError(err, known),
      });
    }

    const status = res.statusCode;
    const resHeaders = flattenHeaders(res.headers);
    stats.response(status);
    opts.logger?.debug({ endpoint, method: req.method, url: scrub(url.toString()), status, ms: now() - started }, 'provider response');

    const success = req.expectStatus ? req.expectStatus.includes(status) : status >= 200 && status < 300;
    if (!success) {
      const text = scrub(await readHead(res.body, ERROR_BODY_KEEP, stats.bytes));
      if (status === 429) stats.throttled();
      // A 429 means the server did not act on the request, so even a non-idempotent call may go again.
      if (RETRYABLE_STATUS.has(status) && (idempotent || status === 429)) {
        return { kind: 'retry', reason: `HTTP ${status}`, retryAfterMs: parseRetryAfter(resHeaders['retry-after'], now(), resHeaders.date), status, body: text, cause: undefined };
      }
      // A 5xx that may not be retried (the call is not idempotent) is still the provider being down. The body stays in
      // details (logged, redacted): the message reaches API callers, and a body could be any internal page's text.
      throw new AppError(status >= 500 ? 'provider_unavailable' : 'provider_error', `${endpoint} returned HTTP ${status}`, {
        details: { status, endpoint, method: req.method, url: scrub(url.toString()), body: text },
      });
    }

    const declared = Number(resHeaders['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      discard(res.body);
      throw tooLarge();
    }

    if (parse === 'stream') {
      const wrap = (err: unknown): Error =>
        new AppError('provider_unavailable', scrub(`${endpoint}: download interrupted: ${networkReason(err)}`), { details: { endpoint }, cause: redactError(err, known) });
      const stream: Readable = cappedStream(res.body, maxBytes, stats.bytes, tooLarge, wrap);
      return { kind: 'done', response: { status, headers: resHeaders, data: stream } };
    }

    let buf: Buffer;
    try {
      buf = await readCapped(res.body, maxBytes, stats.bytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw tooLarge();
      if (signal?.aborted) throw signal.reason;
      const reason = retryableNetworkReason(err, idempotent);
      if (reason !== null) return { kind: 'retry', reason: scrub(`body: ${reason}`), retryAfterMs: null, status, body: null, cause: err };
      throw new AppError('provider_unavailable', scrub(`${endpoint}: reading the response failed: ${networkReason(err)}`), {
        details: { endpoint, status },
        cause: redactError(err, known),
      });
    }

    if (parse === 'buffer') return { kind: 'done', response: { status, headers: resHeaders, data: buf } };
    if (parse === 'text') return { kind: 'done', response: { status, headers: resHeaders, data: buf.toString('utf8') } };
    if (buf.length === 0) return { kind: 'done', response: { status, headers: resHeaders, data: null } };
    const text = buf.toString('utf8');
    // Walks over a payload (hashing, redaction, normalizing) recurse: one nested a million deep would fail every run.
    if (jsonDeeperThan(text, MAX_PROVIDER_JSON_DEPTH)) {
      throw new AppError('provider_error', `${endpoint} returned JSON nested deeper than ${MAX_PROVIDER_JSON_DEPTH} levels`, { details: { status, endpoint } });
    }
    try {
      return { kind: 'done', response: { status, headers: resHeaders, data: JSON.parse(text) as unknown } };
    } catch (err) {
      const snippet = scrub(buf.subarray(0, ERROR_BODY_KEEP).toString('utf8'));
      // A 200 whose JSON is cut off is a transfer failure: ask again (unless asking again could act twice).
      if (status >= 200 && status < 300 && idempotent) {
        return { kind: 'retry', reason: `invalid JSON in a ${status} response (${buf.length} bytes, truncated?)`, retryAfterMs: null, status, body: snippet, cause: err };
      }
      throw new AppError('provider_error', `${endpoint} returned invalid JSON (HTTP ${status})`, { details: { status, endpoint, body: snippet }, cause: redactError(err, known) });
    }
  }

  async function request<T>(req: ProviderRequest): Promise<ProviderResponse<T>> {
    const url = buildUrl(req.url, req.query);
    const headers: Record<string, string> = { 'user-agent': userAgent };
    if ((req.parse ?? 'json') === 'json') headers.accept = 'application/json';
    let body: Dispatcher.DispatchOptions['body'];
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] = 'application/json';
    } else if (req.form !== undefined) {
      body = (req.form instanceof URLSearchParams ? req.form : new URLSearchParams(req.form)).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (req.body instanceof FormData) {
      // Serialized once by Node's own fetch machinery (undici 7 cannot stream Node's global FormData),
      // which also makes the multipart body resendable byte for byte on a retry.
      const encoded = new Response(req.body);
      body = Buffer.from(await encoded.arrayBuffer());
      headers['content-type'] = encoded.headers.get('content-type') ?? 'multipart/form-data';
    } else if (req.body !== undefined) {
      body = req.body;
    }
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;

    const known = [...secrets, ...requestSecrets(url, headers, req.form)];
    const signals = [opts.signal, req.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    const endpoint = req.endpoint;

    let last: Extract<Attempt, { kind: 'retry' }> | null = null;
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      if (signal?.aborted) throw signal.reason;
      await opts.limiter?.acquire(signal);
      await req.limiter?.acquire(signal);
      stats.request(endpoint);
      const outcome = await attemptWithinDeadline({ req, url, headers, body, known }, signal);
      if (outcome.kind === 'done') return outcome.response as ProviderResponse<T>;
      last = outcome;

      if (outcome.retryAfterMs !== null && outcome.retryAfterMs > policy.maxRetryAfterMs) {
        throw new AppError('rate_limited', `${endpoint}: the provider asks to wait ${Math.ceil(outcome.retryAfterMs / 1000)} s (Retry-After), more than ${Math.round(policy.maxRetryAfterMs / 1000)} s`, {
          details: { endpoint, status: outcome.status, retry_after_ms: outcome.retryAfterMs },
        });
      }
      if (attempt === policy.maxAttempts) break;
      if (outcome.retryAfterMs !== null && outcome.status === 429) opts.limiter?.pause?.(outcome.retryAfterMs);
      // The server's Retry-After wins over the backoff cap: retrying sooner would only earn another 429.
      const waitMs = Math.max(backoffDelay(attempt - 1, policy, random), outcome.retryAfterMs ?? 0);
      stats.retry();
      opts.logger?.warn({ endpoint, method: req.method, attempt, reason: outcome.reason, status: outcome.status, wait_ms: waitMs }, 'provider request failed, retrying');
      await sleep(waitMs, signal);
    }

    const reason = last?.reason ?? 'unknown failure';
    throw new AppError('provider_unavailable', `${endpoint} failed after ${policy.maxAttempts} attempts: ${reason}`, {
      details: { endpoint, attempts: policy.maxAttempts, status: last?.status ?? null, body: last?.body ?? null },
      cause: last?.cause === undefined ? undefined : redactError(last.cause, known),
    });
  }

  return {
    request,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    addSecrets(...values) {
      for (const v of values) if (v !== '') secrets.add(v);
    },
    redact: (text) => redact(text, [...secrets]),
    close: () => agent.close(),
  };
}
