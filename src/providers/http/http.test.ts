import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { createSimServer, jsonResponse, type SimServer } from '../../simulators/common/server.ts';
import { createProviderHttpClient, type ProviderHttpClient } from './client.ts';
import { ALLOW_PRIVATE_EGRESS } from './egress.ts';
import { createLimiterRegistry, createTokenBucket, defaultRate } from './limiter.ts';
import { guardedPages } from './paginate.ts';
import { redact } from '../../redact.ts';
import { parseRetryAfter } from './retry.ts';
import { createTestClock } from '../../test-clock.testkit.ts';

const SECRET = 'sk_live_very_secret_value';
const fast = { baseDelayMs: 5, maxDelayMs: 50 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function startSim(handle?: Parameters<typeof createSimServer>[0]['routes'][number]['handle'], clock?: () => Date): Promise<{ sim: SimServer; base: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const sim = createSimServer({
    name: 'test',
    ...(clock ? { clock } : {}),
    routes: [
      { method: 'GET', path: '/items', name: 'GET /items', handle: handle ?? (() => { arrivals.push(performance.now()); return jsonResponse(200, { ok: true, pad: 'x'.repeat(64) }); }) },
      { method: 'GET', path: '/bad', name: 'GET /bad', handle: () => jsonResponse(400, { error: `bad key ${SECRET}` }) },
      { method: 'GET', path: '/big', name: 'GET /big', handle: () => jsonResponse(200, { pad: 'y'.repeat(10_000) }) },
    ],
    truth: () => [],
    errorBody: (_s, message) => ({ error: message }),
  });
  const base = await sim.listen(0);
  cleanups.push(() => sim.close());
  return { sim, base, arrivals };
}

function client(opts: Parameters<typeof createProviderHttpClient>[0] = {}): ProviderHttpClient {
  const c = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, retry: fast, secrets: [SECRET], ...opts });
  cleanups.push(() => c.close());
  return c;
}

const faults = (base: string, body: object): Promise<Response> => fetch(`${base}/__sim/faults`, { method: 'POST', body: JSON.stringify(body) });

describe('token bucket limiter', () => {
  it('paces requests at the configured rate, as the bucket releases them and as the server sees them', async () => {
    const { base, arrivals } = await startSim();
    const bucket = createTokenBucket({ requests: 20, perSeconds: 1 });
    // The moments the bucket lets each request go, beside the moments the server sees them arrive.
    const released: number[] = [];
    const limiter = {
      acquire: async (signal?: AbortSignal) => {
        await bucket.acquire(signal);
        released.push(performance.now());
      },
      pause: (ms: number) => bucket.pause(ms),
    };
    const c = client({ limiter });
    // Warm the keep-alive connection: a first request's connect time would shift only its own arrival.
    await c.request({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' });
    arrivals.length = 0;
    released.length = 0;
    await Promise.all(Array.from({ length: 11 }, () => c.request({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' })));
    expect(arrivals).toHaveLength(11);
    // The bucket's exact spacing is checked on a fake clock (limiter.test.ts). Here, on the real one, every moment is
    // seen late by however long a busy event loop (server and client share it here) takes to hand it over: a sample
    // may look closer to the next by that delay, never by more over a longer run. Unpaced, all 11 go within a few ms.
    const HANDOVER_MS = 150;
    for (let i = 0; i < released.length; i++) {
      for (let j = i + 1; j < released.length; j++) {
        expect((released[j] ?? 0) - (released[i] ?? 0), `releases ${i} and ${j}`).toBeGreaterThanOrEqual((j - i) * 50 - HANDOVER_MS);
      }
    }
    expect((released.at(-1) ?? 0) - (released[0] ?? 0)).toBeGreaterThanOrEqual(10 * 50 - HANDOVER_MS);
    for (let i = 0; i < arrivals.length; i++) {
      for (let j = i + 1; j < arrivals.length; j++) {
        expect((arrivals[j] ?? 0) - (arrivals[i] ?? 0), `requests ${i} and ${j}`).toBeGreaterThanOrEqual((j - i) * 50 - HANDOVER_MS);
      }
    }
  });

  it('shares one bucket per account across clients; other accounts are independent', () => {
    const registry = createLimiterRegistry();
    const rate = defaultRate({ requests: 5, perSeconds: 1 });
    expect(rate.requests).toBeCloseTo(4.5);
    const a1 = registry.bucket('frontcore:acct-a', rate);
    expect(registry.bucket('frontcore:acct-a', rate)).toBe(a1);
    expect(registry.bucket('frontcore:acct-b', rate)).not.toBe(a1);
  });

  it('a 429 with Retry-After pushes back every caller of the account', async () => {
    const clockNow = { t: 0 };
    const slept: number[] = [];
    const bucket = createTokenBucket({ requests: 10, perSeconds: 1 }, { clock: { now: () => clockNow.t, sleep: async (ms) => { slept.push(ms); await Promise.resolve(); } } });
    await bucket.acquire();
    bucket.pause(2000);
    await bucket.acquire();
    expect(slept.at(-1)).toBe(2000);
  });
});

describe('retries', () => {
  it('honours Retry-After given in seconds: the retry comes no earlier than asked', async () => {
    const { base, arrivals } = await startSim();
    await faults(base, { burst_429: 1, retry_after_seconds: 1, retry_after_format: 'seconds' });
    const c = client();
    const t0 = performance.now();
    const res = await c.request<{ ok: boolean }>({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' });
    expect(res.data.ok).toBe(true);
    expect((arrivals[0] ?? 0) - t0).toBeGreaterThanOrEqual(990);
    expect(c.stats()).toMatchObject({ throttled_429: 1, retries: 1, requests: 2 });
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const { base, arrivals } = await startSim();
    await faults(base, { burst_429: 1, retry_after_seconds: 2, retry_after_format: 'http-date' });
    const c = client();
    const t0 = performance.now();
    await c.request({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' });
    // HTTP dates have one-second resolution: at least ~1 s, and the header was read as a date, not ignored.
    expect((arrivals[0] ?? 0) - t0).toBeGreaterThanOrEqual(1000);
    const at = Date.parse('2026-06-11T10:00:00Z');
    expect(parseRetryAfter(new Date(at + 5000).toUTCString(), at)).toBe(5000);
  });

  it('reads a Retry-After date against the server\'s own Date header, whatever our clock says', async () => {
    // The server's clock is years behind ours: its retry date is in our past, yet it asks for about 2 s.
    const { base, arrivals } = await startSim(undefined, createTestClock('2020-01-01T00:00:00Z').now);
    await faults(base, { burst_429: 1, retry_after_seconds: 2, retry_after_format: 'http-date' });
    const c = client();
    const t0 = performance.now();
    await c.request({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' });
    expect((arrivals[0] ?? 0) - t0).toBeGreaterThanOrEqual(1000);
    expect(c.stats()).toMatchObject({ throttled_429: 1, retries: 1 });
    const ours = Date.parse('2026-06-11T10:00:00Z');
    const serverNow = new Date('2020-01-01T00:00:00Z');
    expect(parseRetryAfter(new Date(serverNow.getTime() + 5000).toUTCString(), ours, serverNow.toUTCString())).toBe(5000);
    expect(parseRetryAfter(new Date(serverNow.getTime() + 5000).toUTCString(), ours)).toBe(0);
  });

  it('retries 5xx, connection resets and truncated JSON until it gets through', async () => {
    const { base } = await startSim();
    await faults(base, { error_rate: 0.3, reset_rate: 0.2, truncate_rate: 0.2, seed: 'mix' });
    const c = client({ retry: { ...fast, maxAttempts: 12 } });
    for (let i = 0; i < 15; i++) {
      const res = await c.request<{ ok: boolean }>({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' });
      expect(res.data.ok).toBe(true);
    }
    expect(c.stats().retries).toBeGreaterThan(0);
  });

  it('gives up with provider_unavailable and the attempt count when the provider keeps failing', async () => {
    const { base } = await startSim();
    await faults(base, { error_rate: 1, error_status: 503 });
    const c = client({ retry: { ...fast, maxAttempts: 3 } });
    const err = await c.request({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('provider_unavailable');
    expect((err as AppError).message).toBe('GET /items failed after 3 attempts: HTTP 503');
  });

  it('does not retry a 400, and says what the provider answered without secrets', async () => {
    const { base, sim } = await startSim();
    const c = client();
    const err = await c.request({ method: 'GET', url: `${base}/bad?api_key=${SECRET}`, endpoint: 'GET /bad' }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('provider_error');
    expect(sim.counters.snapshot().requests_by_endpoint['GET /bad']).toBe(1);
    const dumped = JSON.stringify({ message: (err as Error).message, details: (err as AppError).details, cause: String((err as Error).cause) });
    expect(dumped).not.toContain(SECRET);
    expect(dumped).toContain('***');
  });

  it('refuses to wait longer than the Retry-After cap', async () => {
    const { base } = await startSim();
    await faults(base, { burst_429: 1, retry_after_seconds: 3600 });
    const err = await client().request({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('rate_limited');
  });
});

describe('timeouts, size cap, redaction', () => {
  it('times out a provider that never answers, then reports it unavailable', async () => {
    const server = http.createServer(() => undefined); // never responds
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }));
    const port = (server.address() as AddressInfo).port;
    const c = client({ timeouts: { headersMs: 150 }, retry: { ...fast, maxAttempts: 2 } });
    const err = await c.request({ method: 'GET', url: `http://127.0.0.1:${port}/x`, endpoint: 'GET /x' }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('provider_unavailable');
    expect((err as AppError).message).toMatch(/failed after 2 attempts/);
  });

  it('cuts off a provider that drips its answer a byte at a time: a deadline for the whole attempt, then unavailable', async () => {
    // Headers at once, then one byte every 100 ms for ever: no single silence is long enough for bodyMs.
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }));
    const port = (server.address() as AddressInfo).port;
    const c = client({ timeouts: { bodyMs: 5_000, totalMs: 600 }, retry: { ...fast, maxAttempts: 2 } });
    const err = await c.request({ method: 'GET', url: `http://127.0.0.1:${port}/x`, endpoint: 'GET /x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_unavailable', message: 'GET /x failed after 2 attempts: no complete answer within 1 s' });
    const post = await c.request({ method: 'POST', url: `http://127.0.0.1:${port}/x`, endpoint: 'POST /x', json: {}, idempotent: false }).catch((e: unknown) => e);
    expect(post).toMatchObject({ code: 'provider_unavailable', message: 'POST /x failed: no complete answer within 1 s' });
  });

  it('finding 10: refuses a payload nested deeper than 64 levels as a provider_error, without walking it', async () => {
    const { base } = await startSim(() => jsonResponse(200, 0));
    const deep = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    });
    await new Promise<void>((r) => deep.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => deep.close(() => r())));
    const err = await client().request({ method: 'GET', url: `http://127.0.0.1:${(deep.address() as AddressInfo).port}/x`, endpoint: 'GET /x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_error', message: 'GET /x returned JSON nested deeper than 64 levels' });
    // An ordinary payload is read as before.
    expect((await client().request({ method: 'GET', url: `${base}/items`, endpoint: 'GET /items' })).data).toBe(0);
  });

  it('refuses a response over the size cap', async () => {
    const { base } = await startSim();
    const err = await client({ maxResponseBytes: 1000 }).request({ method: 'GET', url: `${base}/big`, endpoint: 'GET /big' }).catch((e: unknown) => e);
    expect((err as AppError).message).toBe('response from GET /big exceeds 1000 bytes');
  });

  it('redacts secrets in any form and credential query parameters', () => {
    expect(redact(`https://x/y?api_key=abc123&email=a@b.no`, [])).toBe('https://x/y?api_key=***&email=a@b.no');
    expect(redact(`Basic ${Buffer.from(SECRET).toString('base64')} and ${encodeURIComponent(SECRET)}`, [SECRET])).toBe('Basic *** and ***');
  });
});

describe('pagination guards', () => {
  it('ends on an empty page', async () => {
    const pages = [[1, 2], [3], []];
    const seen: number[] = [];
    for await (const p of guardedPages((n: number) => Promise.resolve({ items: pages[n] ?? [], next: n + 1 }), { first: 0, endpoint: 'GET /list' })) seen.push(...p.items);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('stops a next link already visited with a clear error', async () => {
    const run = async (): Promise<void> => {
      for await (const _ of guardedPages((n: number) => Promise.resolve({ items: [n], next: n === 2 ? 1 : n + 1 }), { first: 0, endpoint: 'GET /list' })) {
        /* consume */
      }
    };
    await expect(run()).rejects.toThrow('pagination loop: GET /list returned a next link already visited');
  });

  it('stops at the page cap', async () => {
    const run = async (): Promise<void> => {
      for await (const _ of guardedPages((n: number) => Promise.resolve({ items: [n], next: n + 1 }), { first: 0, endpoint: 'GET /list', maxPages: 5 })) {
        /* consume */
      }
    };
    await expect(run()).rejects.toThrow('more than 5 pages');
  });
});
