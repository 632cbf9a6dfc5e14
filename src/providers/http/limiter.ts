/**
 * A token bucket per provider account, paced proactively (GCRA): each request reserves the next
 * slot in FIFO order, so requests leave evenly spaced and the account never exceeds its rate,
 * however many callers (sync runs, on-demand calls) share it.
 */
import { AppError } from '../../errors.ts';

export interface RateLimit {
  requests: number;
  perSeconds: number;
}

export interface TokenBucket {
  readonly rate: RateLimit;
  /** Resolves when this caller may send one request. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Push every waiting and future caller back by `ms` (the provider said 429 with Retry-After). */
  pause(ms: number): void;
}

export interface BucketClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: BucketClock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

function abortError(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new AppError('internal', 'aborted');
}

/** The rate certhub uses by default: 90% of what the provider documents. */
export function defaultRate(documented: RateLimit): RateLimit {
  return { requests: documented.requests * 0.9, perSeconds: documented.perSeconds };
}

export function createTokenBucket(rate: RateLimit, opts: { burst?: number; clock?: BucketClock } = {}): TokenBucket {
  if (!(rate.requests > 0) || !(rate.perSeconds > 0)) throw new AppError('invalid_config', 'a rate limit needs requests > 0 and per_seconds > 0');
  const clock = opts.clock ?? realClock;
  const interval = (rate.perSeconds * 1000) / rate.requests;
  const tolerance = (Math.max(1, opts.burst ?? 1) - 1) * interval;
  let tat = 0; // theoretical arrival time of the next request
  return {
    rate,
    async acquire(signal) {
      const now = clock.now();
      const slot = Math.max(tat, now);
      tat = slot + interval;
      const wait = slot - tolerance - now;
      if (wait > 0) await clock.sleep(wait, signal);
    },
    pause(ms) {
      tat = Math.max(tat, clock.now() + ms);
    },
  };
}

/** One bucket per account key, shared by everything in the process that uses that account. */
export interface LimiterRegistry {
  bucket(accountKey: string, rate: RateLimit): TokenBucket;
}

export function createLimiterRegistry(opts: { clock?: BucketClock } = {}): LimiterRegistry {
  const buckets = new Map<string, TokenBucket>();
  return {
    bucket(accountKey, rate) {
      const key = `${accountKey}@${rate.requests}/${rate.perSeconds}`;
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = createTokenBucket(rate, opts.clock ? { clock: opts.clock } : {})));
      return b;
    },
  };
}
