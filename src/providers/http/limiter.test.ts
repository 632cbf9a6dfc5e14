import { afterEach, describe, expect, it } from 'vitest';
import { createSimServer, jsonResponse } from '../../simulators/common/server.ts';
import { createProviderHttpClient, type ProviderHttpClient } from './client.ts';
import { ALLOW_PRIVATE_EGRESS } from './egress.ts';
import { accountKey, createLimiterRegistry, createTokenBucket, defaultRate, type RateLimit } from './limiter.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A simulator that records, per account (X-API-Key), when each request arrived. */
async function startRecorder(): Promise<{ base: string; arrivals: Map<string, number[]> }> {
  const arrivals = new Map<string, number[]>();
  const sim = createSimServer({
    name: 'recorder',
    routes: [
      {
        method: 'GET',
        path: '/ping',
        handle: (req) => {
          const key = String(req.headers['x-api-key']);
          arrivals.set(key, [...(arrivals.get(key) ?? []), Date.now()]);
          return jsonResponse(200, { ok: true });
        },
      },
    ],
    truth: () => [],
    errorBody: (_s, message) => ({ error: message }),
  });
  const base = await sim.listen(0);
  cleanups.push(() => sim.close());
  return { base, arrivals };
}

function clientFor(bucket: ReturnType<typeof createTokenBucket>): ProviderHttpClient {
  const c = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, limiter: bucket, retry: { baseDelayMs: 5, maxDelayMs: 50 } });
  cleanups.push(() => c.close());
  return c;
}

const span = (times: number[]): number => (times.at(-1) ?? 0) - (times[0] ?? 0);
const ping = (c: ProviderHttpClient, base: string, key: string): Promise<unknown> =>
  c.request({ method: 'GET', url: `${base}/ping`, endpoint: 'GET /ping', headers: { 'X-API-Key': key } });

describe('limiter registry', () => {
  const rate: RateLimit = { requests: 20, perSeconds: 1 };

  it('two clients of the same account share one bucket: together they stay at the account rate', async () => {
    const { base, arrivals } = await startRecorder();
    const registry = createLimiterRegistry();
    const key = accountKey('frontcore', `${base}/`, 'key-a');
    const sync = clientFor(registry.bucket(key, rate));
    const onDemand = clientFor(registry.bucket(accountKey('frontcore', base, 'key-a'), rate));
    // Warm both keep-alive connections, so connect time does not skew the first arrivals.
    await Promise.all([ping(sync, base, 'a'), ping(onDemand, base, 'a')]);
    arrivals.clear();
    await Promise.all([...Array.from({ length: 6 }, () => ping(sync, base, 'a')), ...Array.from({ length: 6 }, () => ping(onDemand, base, 'a'))]);
    const times = arrivals.get('a') ?? [];
    expect(times).toHaveLength(12);
    // 12 requests at 20/s: 11 gaps of 50 ms (550 ms); two buckets of 6 would take 250. The first arrival may be seen
    // late by a busy event loop's hand-over (150 ms allowed), which only shortens the span.
    expect(span(times)).toBeGreaterThanOrEqual(400);
    expect(registry.keys()).toEqual([key]);
  });

  it('different accounts have their own buckets and do not slow each other down', async () => {
    const { base, arrivals } = await startRecorder();
    const registry = createLimiterRegistry();
    const a = clientFor(registry.bucket(accountKey('frontcore', base, 'key-a'), rate));
    const b = clientFor(registry.bucket(accountKey('frontcore', base, 'key-b'), rate));
    await Promise.all([...Array.from({ length: 8 }, () => ping(a, base, 'a')), ...Array.from({ length: 8 }, () => ping(b, base, 'b'))]);
    const timesA = arrivals.get('a') ?? [];
    const timesB = arrivals.get('b') ?? [];
    // Each paced on its own: 7 gaps of 50 ms (350 ms), less a busy event loop's hand-over of the first arrival.
    expect(span(timesA)).toBeGreaterThanOrEqual(200);
    expect(span(timesB)).toBeGreaterThanOrEqual(200);
    // One shared bucket would serve a's eight (queued first) before any of b's; two buckets pace them side by side.
    expect(Math.min(...timesB)).toBeLessThan(Math.max(...timesA));
    expect(Math.min(...timesA)).toBeLessThan(Math.max(...timesB));
  });

  it('keys accounts by provider, base URL and a hash of the key, never the key itself', () => {
    const k = accountKey('springest', 'https://api.springest.nl/', 'super-secret-key');
    expect(k).toMatch(/^springest:https:\/\/api\.springest\.nl:[0-9a-f]{16}$/);
    expect(k).not.toContain('super-secret-key');
    expect(accountKey('springest', 'https://api.springest.nl', 'other-key')).not.toBe(k);
    expect(accountKey('springest', 'https://api.springest.de', 'super-secret-key')).not.toBe(k);
  });

  it('defaultRate keeps 10% headroom under the documented limit', () => {
    expect(defaultRate({ requests: 5, perSeconds: 1 })).toEqual({ requests: 4.5, perSeconds: 1 });
    expect(defaultRate({ requests: 4000, perSeconds: 3600 }).requests).toBeCloseTo(3600);
  });
});

describe('token bucket', () => {
  /** A clock that only moves when someone sleeps. */
  const fakeClock = (): { t: number; now: () => number; sleep: (ms: number) => Promise<void> } => {
    const c = {
      t: 0,
      now: () => c.t,
      sleep: async (ms: number) => {
        // A macrotask: every promise reaction of "now" runs before time moves on.
        await new Promise((r) => setImmediate(r));
        c.t += ms;
      },
    };
    return c;
  };

  it('serves waiters first come, first served, at even spacing; an aborted waiter frees its turn', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ requests: 10, perSeconds: 1 }, { clock });
    const granted: [string, number][] = [];
    const ctl = new AbortController();
    const wait = (name: string, signal?: AbortSignal): Promise<void> =>
      bucket.acquire(signal).then(() => {
        granted.push([name, clock.now()]);
      });
    const all = [wait('a'), wait('b'), wait('c', ctl.signal).catch(() => granted.push(['c-aborted', clock.now()])), wait('d'), wait('e')];
    expect(bucket.pending()).toBe(4);
    ctl.abort();
    await Promise.all(all);
    expect(granted).toEqual([
      ['a', 0],
      ['c-aborted', 0],
      ['b', 100],
      ['d', 200],
      ['e', 300],
    ]);
    expect(bucket.pending()).toBe(0);
  });

  it('lets `burst` requests through at once after idling, then paces', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ requests: 10, perSeconds: 1, burst: 3 }, { clock });
    const times: number[] = [];
    await Promise.all(Array.from({ length: 5 }, () => bucket.acquire().then(() => times.push(clock.now()))));
    expect(times).toEqual([0, 0, 0, 100, 200]);
  });

  it('pause() holds back every waiter of the account, also one already asleep', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ requests: 10, perSeconds: 1 }, { clock });
    await bucket.acquire();
    const second = bucket.acquire().then(() => clock.now());
    bucket.pause(2000);
    expect(await second).toBeGreaterThanOrEqual(2000);
  });

  it('refuses nonsense rates', () => {
    expect(() => createTokenBucket({ requests: 0, perSeconds: 1 })).toThrow(/rate limit/);
    expect(() => createTokenBucket({ requests: 1, perSeconds: 1, burst: 0 })).toThrow(/burst/);
  });
});
