/** Per-key rate limiting of the hub API: a token bucket per API key, answered with 429 and Retry-After. */
import type { RateLimit } from '../domain/rate-limit.ts';

export const DEFAULT_API_RATE_LIMIT: RateLimit = { requests: 600, perSeconds: 60 };

/** Requests with a wrong or missing key one client address may make before it must wait (guessing keys). */
export const FAILED_AUTH_LIMIT: RateLimit = { requests: 20, perSeconds: 60 };

export interface KeyRateLimiter {
  /** 0 when the request may go ahead (a token is taken), else the seconds to wait before retrying. */
  take(keyId: string): number;
}

export function createKeyRateLimiter(limit: RateLimit, now: () => number = () => Date.now()): KeyRateLimiter {
  const perMs = limit.requests / (limit.perSeconds * 1000);
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refilled = (keyId: string): { tokens: number; at: number } => {
    const t = now();
    const bucket = buckets.get(keyId) ?? { tokens: limit.requests, at: t };
    bucket.tokens = Math.min(limit.requests, bucket.tokens + (t - bucket.at) * perMs);
    bucket.at = t;
    // A full bucket is the same as none: forget it, so one-off callers do not pile up.
    if (bucket.tokens >= limit.requests) buckets.delete(keyId);
    else buckets.set(keyId, bucket);
    return bucket;
  };
  const wait = (tokens: number): number => (tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)));
  return {
    take(keyId) {
      const bucket = refilled(keyId);
      if (bucket.tokens < 1) return wait(bucket.tokens);
      bucket.tokens -= 1;
      buckets.set(keyId, bucket);
      return 0;
    },
  };
}
