/** Per-key rate limiting of the hub API: a token bucket per API key, answered with 429 and Retry-After. */
export interface ApiRateLimit {
  /** Requests allowed per `perSeconds`, also the burst size. */
  requests: number;
  perSeconds: number;
}

export const DEFAULT_API_RATE_LIMIT: ApiRateLimit = { requests: 600, perSeconds: 60 };

export interface KeyRateLimiter {
  /** 0 when the request may go ahead (a token is taken), else the seconds to wait before retrying. */
  take(keyId: string): number;
}

export function createKeyRateLimiter(limit: ApiRateLimit, now: () => number = () => Date.now()): KeyRateLimiter {
  const perMs = limit.requests / (limit.perSeconds * 1000);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(keyId) {
      const t = now();
      const bucket = buckets.get(keyId) ?? { tokens: limit.requests, at: t };
      bucket.tokens = Math.min(limit.requests, bucket.tokens + (t - bucket.at) * perMs);
      bucket.at = t;
      buckets.set(keyId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
  };
}
