/**
 * Client-side pacing per provider account. Providers count requests per account across all of a
 * customer's clients (FrontCore: 5/s, then 429), so everything in this process that uses one
 * account (sync runs, on-demand status checks, pushes) must share one bucket: build buckets through
 * a `LimiterRegistry` keyed by `accountKey(...)`, never per client.
 *
 * The bucket is a GCRA token bucket: with the default burst of 1 requests are spaced evenly at
 * the configured rate; waiters are served first come, first served.
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '../../errors.ts';

import type { RateLimit } from '../../domain/rate-limit.ts';

export type { RateLimit } from '../../domain/rate-limit.ts';

/** What the HTTP client needs from a limiter. */
export interface Limiter {
  /** Resolves when one request may be sent; rejects with the signal's reason if aborted while queued. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Holds every waiter back for `ms` (the provider answered 429 with Retry-After for the whole account). */
  pause?(ms: number): void;
}

export interface TokenBucket extends Limiter {
  readonly rate: Readonly<Required<RateLimit>>;
  pause(ms: number): void;
  /** Waiters queued right now. */
  pending(): number;
}

/** Time source of a bucket; tests pass a fake one. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: LimiterClock = { now: () => Date.now(), sleep: (ms) => delay(ms) };

export function createTokenBucket(rate: RateLimit, deps: { clock?: LimiterClock } = {}): TokenBucket {
  const burst = rate.burst ?? 1;
  if (!(rate.requests > 0) || !(rate.perSeconds > 0) || !Number.isFinite(rate.requests) || !Number.isFinite(rate.perSeconds)) {
    throw new AppError('invalid_config', `rate limit must be positive, got ${rate.requests} per ${rate.perSeconds} s`);
  }
  if (!Number.isInteger(burst) || burst < 1) throw new AppError('invalid_config', `rate limit burst must be a positive integer, got ${burst}`);
  const clock = deps.clock ?? realClock;
  const intervalMs = (rate.perSeconds * 1000) / rate.requests;
  const toleranceMs = (burst - 1) * intervalMs;
  // Theoretical arrival time of the next request (GCRA): a request may go at `tat - tolerance`.
  let tat = Number.NEGATIVE_INFINITY;
  // Bumped by pause(), so a waiter asleep on an old schedule looks again.
  let version = 0;
  interface Waiter {
    resolve(): void;
    reject(err: unknown): void;
    detach(): void;
  }
  const queue: Waiter[] = [];
  let pumping = false;

  const readyAt = (t: number): number => Math.max(t, tat - toleranceMs);
  const take = (t: number): void => {
    tat = Math.max(tat, t) + intervalMs;
  };

  // One loop serves the queue head by head: first come, first served.
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) {
        const t = clock.now();
        const at = readyAt(t);
        if (at > t) {
          const seen = version;
          await clock.sleep(at - t);
          if (version !== seen) continue;
          // Otherwise the slot at `at` is the head's, even if the timer fired a hair early.
        }
        const waiter = queue.shift();
        if (waiter === undefined) break; // every waiter gave up while we slept
        take(Math.max(at, clock.now()));
        waiter.detach();
        waiter.resolve();
      }
    } catch (err) {
      for (const w of queue.splice(0)) {
        w.detach();
        w.reject(err);
      }
    } finally {
      pumping = false;
    }
  };

  return {
    rate: { requests: rate.requests, perSeconds: rate.perSeconds, burst },
    pending: () => queue.length,
    pause(ms) {
      if (!(ms > 0)) return;
      tat = Math.max(tat, clock.now() + ms + toleranceMs);
      version += 1;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      if (queue.length === 0 && !pumping) {
        const t = clock.now();
        if (readyAt(t) <= t) {
          take(t);
          return Promise.resolve();
        }
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(signal?.reason as Error);
        };
        const waiter: Waiter = {
          resolve,
          reject,
          detach: () => signal?.removeEventListener('abort', onAbort),
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        void pump();
      });
    },
  };
}

/** 90% of a documented limit: headroom for clock skew and for the provider counting slightly differently. */
export function defaultRate(documented: RateLimit): RateLimit {
  return { requests: documented.requests * 0.9, perSeconds: documented.perSeconds };
}

/**
 * The key of one provider account: `frontcore:https://api.frontcore.com:<sha256(secret) prefix>`.
 * The secret is hashed so keys can be logged.
 */
export function accountKey(provider: string, baseUrl: string | URL, secret: string): string {
  const u = new URL(baseUrl);
  const base = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  const digest = createHash('sha256').update(secret).digest('hex').slice(0, 16);
  return `${provider}:${base}:${digest}`;
}

export interface LimiterRegistry {
  /** The bucket of `key`, created with `rate` on first use; later calls get the same bucket (first rate wins). */
  bucket(key: string, rate: RateLimit): TokenBucket;
  keys(): string[];
}

export function createLimiterRegistry(deps: { clock?: LimiterClock } = {}): LimiterRegistry {
  const buckets = new Map<string, TokenBucket>();
  return {
    bucket(key, rate) {
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        bucket = createTokenBucket(rate, deps);
        buckets.set(key, bucket);
      }
      return bucket;
    },
    keys: () => [...buckets.keys()],
  };
}
