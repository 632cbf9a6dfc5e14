/**
 * Per-key rate limiting of the hub API: a token bucket per API key, answered with 429 and Retry-After. A request
 * costs what it makes certhub do, not one unit per call (QUOTA_COSTS): the key check takes one unit as the request
 * arrives, a route that costs more takes the rest once its body is parsed, and a CSV export is charged as it streams.
 */
import type { RateLimit } from '../domain/rate-limit.ts';

export const DEFAULT_API_RATE_LIMIT: RateLimit = { requests: 600, perSeconds: 60 };

/** Requests with a wrong or missing key one client address may make before it must wait (guessing keys). */
export const FAILED_AUTH_LIMIT: RateLimit = { requests: 20, perSeconds: 60 };

/** What requests cost in units of a key's quota (a plain call costs 1). */
export const QUOTA_COSTS = {
  /** A bulk status request: one unit per started 100 people (10,000 people: 100 units, a sixth of the default minute). */
  bulkPeoplePerUnit: 100,
  /** `?live=true` asks the providers themselves: this much on top, per request. */
  live: 10,
  /** A CSV export (compliance table, expiring report): one unit per started 1,000 rows beyond its first 1,000. */
  exportRowsPerUnit: 1000,
} as const;

/** Units a status request costs: 1 per started 100 people, plus the live surcharge. */
export function statusCost(people: number, live: boolean): number {
  return Math.max(1, Math.ceil(people / QUOTA_COSTS.bulkPeoplePerUnit)) + (live ? QUOTA_COSTS.live : 0);
}

export interface KeyRateLimiter {
  /**
   * 0 when the request may go ahead (`cost` units are taken), else the seconds to wait before retrying. A cost
   * above the bucket's size goes ahead on a full bucket (and leaves it in debt), so no request is refused for ever.
   */
  take(keyId: string, cost?: number): number;
  /** Takes units for work already done (rows of an export as they stream), without refusing: the bucket may go into debt. */
  spend(keyId: string, units: number): void;
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
  const wait = (tokens: number, need: number): number => Math.max(1, Math.ceil((need - tokens) / perMs / 1000));
  return {
    take(keyId, cost = 1) {
      if (cost <= 0) return 0;
      const bucket = refilled(keyId);
      const need = Math.min(cost, limit.requests);
      if (bucket.tokens < need) return wait(bucket.tokens, need);
      bucket.tokens -= cost;
      buckets.set(keyId, bucket);
      return 0;
    },
    spend(keyId, units) {
      if (units <= 0) return;
      const bucket = refilled(keyId);
      bucket.tokens -= units;
      buckets.set(keyId, bucket);
    },
  };
}
