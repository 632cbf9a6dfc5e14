/**
 * The one HTTP client every provider connector uses (undici): a shared token bucket per provider
 * account, retries on 429 / 5xx / network errors with exponential backoff and full jitter that
 * honour Retry-After in both forms, connect / header / body timeouts, a response size cap, and
 * secrets redacted from every error and log line.
 */
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { AppError } from '../../errors.ts';
import { realClock, type BucketClock, type TokenBucket } from './limiter.ts';
import { redact, redactUrl } from './redact.ts';
import { backoffDelay, DEFAULT_RETRY, isRetryableNetworkError, parseRetryAfter, RETRYABLE_STATUSES, type RetryPolicy } from './retry.ts';

type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];

export interface ProviderHttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string | URL;
  /** Stable name for counters and messages, e.g. `GET /v2/diplomas`. */
  endpoint: string;
  headers?: Record<string, string>;
  /** Appended to the URL; null/undefined are left out; arrays repeat the key as given (`include[]`). */
  query?: Record<string, QueryValue>;
  json?: unknown;
  form?: Record<string, string>;
  body?: Buffer | FormData;
  parse?: 'json' | 'text' | 'buffer';
  /** Statuses that count as success besides 2xx (e.g. 404 where "not found" is an answer). */
  acceptStatus?: readonly number[];
  /** Default true. Set false for a non-idempotent call that must never be sent twice. */
  retry?: boolean;
  signal?: AbortSignal;
}

export interface ProviderHttpResponse<T> {
  status: number;
  headers: Record<string, string>;
  data: T;
}

export interface HttpStats {
  requests: number;
  requests_by_endpoint: Record<string, number>;
  responses_by_status: Record<string, number>;
  throttled_429: number;
  retries: number;
  bytes: number;
}

export interface ProviderHttpClient {
  request<T = unknown>(req: ProviderHttpRequest): Promise<ProviderHttpResponse<T>>;
  stats(): HttpStats;
  resetStats(): void;
  /** Values to redact from now on (e.g. a token fetched at run time). */
  addSecret(value: string): void;
  close(): Promise<void>;
}

export interface HttpLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ProviderHttpClientOptions {
  /** The account's shared bucket (from a LimiterRegistry); omitted = unpaced. */
  limiter?: TokenBucket;
  retry?: Partial<RetryPolicy>;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  maxResponseBytes?: number;
  secrets?: readonly string[];
  logger?: HttpLogger;
  signal?: AbortSignal;
  userAgent?: string;
  clock?: BucketClock;
  random?: () => number;
}

const emptyStats = (): HttpStats => ({ requests: 0, requests_by_endpoint: {}, responses_by_status: {}, throttled_429: 0, retries: 0, bytes: 0 });

class Retryable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

export function buildUrl(url: string | URL, query?: Record<string, QueryValue>): URL {
  const u = new URL(String(url));
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) for (const item of v as readonly (string | number)[]) u.searchParams.append(k, String(item));
    else u.searchParams.append(k, String(v));
  }
  return u;
}

async function readCapped(body: Dispatcher.ResponseData['body'], cap: number, endpoint: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > cap) {
      body.destroy();
      throw new AppError('provider_error', `response from ${endpoint} exceeds ${cap} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export function createProviderHttpClient(opts: ProviderHttpClientOptions = {}): ProviderHttpClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const clock = opts.clock ?? realClock;
  const random = opts.random ?? Math.random;
  const cap = opts.maxResponseBytes ?? 50 * 1024 * 1024;
  const secrets = [...(opts.secrets ?? [])];
  const agent = new Agent({
    connect: { timeout: opts.timeouts?.connectMs ?? 10_000 },
    headersTimeout: opts.timeouts?.headersMs ?? 30_000,
    bodyTimeout: opts.timeouts?.bodyMs ?? 60_000,
    keepAliveTimeout: 4_000,
    connections: 16,
  });
  let stats = emptyStats();
  const clean = (text: string): string => redact(text, secrets);

  async function attempt<T>(req: ProviderHttpRequest, url: URL, signal: AbortSignal | undefined): Promise<ProviderHttpResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': opts.userAgent ?? 'certhub', ...req.headers };
    let body: Buffer | string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    } else if (req.form) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (req.body instanceof FormData) {
      const encoded = new Response(req.body);
      headers['content-type'] = encoded.headers.get('content-type') ?? 'multipart/form-data';
      body = Buffer.from(await encoded.arrayBuffer());
    } else if (req.body) body = req.body;

    await opts.limiter?.acquire(signal);
    stats.requests += 1;
    stats.requests_by_endpoint[req.endpoint] = (stats.requests_by_endpoint[req.endpoint] ?? 0) + 1;
    let res: Dispatcher.ResponseData;
    try {
      res = await undiciRequest(url, { method: req.method, headers, body, dispatcher: agent, signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      if (isRetryableNetworkError(err)) throw new Retryable(`network error: ${(err as Error).message}`);
      throw new AppError('provider_unavailable', `${req.endpoint}: ${clean((err as Error).message)}`);
    }
    stats.responses_by_status[String(res.statusCode)] = (stats.responses_by_status[String(res.statusCode)] ?? 0) + 1;
    const resHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
    let raw: Buffer;
    try {
      raw = await readCapped(res.body, cap, req.endpoint);
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (isRetryableNetworkError(err)) throw new Retryable(`body interrupted: ${(err as Error).message}`);
      throw err;
    }
    stats.bytes += raw.length;
    const ok = (res.statusCode >= 200 && res.statusCode < 300) || (req.acceptStatus ?? []).includes(res.statusCode);
    if (!ok) {
      if (res.statusCode === 429) stats.throttled_429 += 1;
      if (RETRYABLE_STATUSES.has(res.statusCode)) {
        const after = parseRetryAfter(resHeaders['retry-after'], Date.now());
        if (res.statusCode === 429 && after !== null) opts.limiter?.pause(after);
        throw new Retryable(`HTTP ${res.statusCode}`, after);
      }
      throw new AppError('provider_error', `${req.endpoint} answered HTTP ${res.statusCode}`, {
        details: { endpoint: req.endpoint, status: res.statusCode, body: clean(raw.subarray(0, 500).toString('utf8')) },
      });
    }
    const parse = req.parse ?? 'json';
    let data: unknown = raw;
    if (parse === 'text') data = raw.toString('utf8');
    else if (parse === 'json') {
      try {
        data = raw.length === 0 ? null : JSON.parse(raw.toString('utf8'));
      } catch {
        // A 200 whose JSON does not parse was cut off on the way: try again.
        throw new Retryable('truncated or invalid JSON body');
      }
    }
    return { status: res.statusCode, headers: resHeaders, data: data as T };
  }

  return {
    async request<T>(req: ProviderHttpRequest) {
      const url = buildUrl(req.url, req.query);
      const signal = req.signal ?? opts.signal;
      const maxAttempts = req.retry === false ? 1 : policy.maxAttempts;
      let last = '';
      for (let n = 0; n < maxAttempts; n++) {
        try {
          return await attempt<T>(req, url, signal);
        } catch (err) {
          if (!(err instanceof Retryable)) throw err;
          last = err.message;
          if (err.retryAfterMs !== null && err.retryAfterMs > policy.maxRetryAfterMs) {
            throw new AppError('rate_limited', `${req.endpoint}: provider asks to wait ${Math.round(err.retryAfterMs / 1000)} s (Retry-After), more than certhub waits`);
          }
          if (n + 1 >= maxAttempts) break;
          const wait = Math.max(err.retryAfterMs ?? 0, backoffDelay(policy, n, random));
          stats.retries += 1;
          opts.logger?.warn({ endpoint: req.endpoint, url: redactUrl(url, secrets), attempt: n + 1, wait_ms: wait, reason: clean(last) }, 'provider request will be retried');
          await clock.sleep(wait, signal);
        }
      }
      throw new AppError('provider_unavailable', `${req.endpoint} failed after ${maxAttempts} attempts: ${clean(last)}`);
    },
    stats: () => structuredClone(stats),
    resetStats: () => {
      stats = emptyStats();
    },
    addSecret: (value) => {
      if (value && !secrets.includes(value)) secrets.push(value);
    },
    close: () => agent.close(),
  };
}
