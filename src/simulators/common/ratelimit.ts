/**
 * A sliding-window limiter as a provider enforces it: at most `limit` accepted requests per
 * `windowMs` per account; a request over it is refused (the caller answers 429) and not counted.
 */
export interface WindowLimiter {
  take(account: string, nowMs?: number): { ok: true } | { ok: false; retryAfterMs: number };
  reset(): void;
}

export function createWindowLimiter(opts: { limit: number; windowMs: number }): WindowLimiter {
  const accepted = new Map<string, number[]>();
  return {
    take(account, nowMs = Date.now()) {
      let times = accepted.get(account);
      if (!times) accepted.set(account, (times = []));
      const cutoff = nowMs - opts.windowMs;
      let drop = 0;
      while (drop < times.length && (times[drop] as number) <= cutoff) drop++;
      if (drop > 0) times.splice(0, drop);
      if (times.length >= opts.limit) {
        return { ok: false, retryAfterMs: Math.max(1, (times[0] as number) + opts.windowMs - nowMs) };
      }
      times.push(nowMs);
      return { ok: true };
    },
    reset: () => accepted.clear(),
  };
}
