/**
 * Fault injection for a simulator, set through `POST /__sim/faults`. Faults apply to the provider's
 * own endpoints only, never to `/__sim/`. Randomness comes from `seed`, so a faulty run can be replayed.
 */
import { createRng, type Rng } from './prng.ts';

export interface FaultSettings {
  /** Share of requests answered with `error_status` (a 5xx), 0..1. */
  error_rate: number;
  error_status: number;
  /** Added delay before every answer, plus up to `latency_jitter_ms` more. */
  latency_ms: number;
  latency_jitter_ms: number;
  /** Share of JSON answers cut off halfway: status 200, a body that is not valid JSON. */
  truncate_rate: number;
  /** Share of requests whose connection is reset before any answer. */
  reset_rate: number;
  /** Share of list pages answered with the previous page's content (providers that page). */
  repeat_page_rate: number;
  /** The next N requests get 429 with a Retry-After of `retry_after_seconds`, as seconds or as an HTTP date. */
  burst_429: number;
  retry_after_seconds: number;
  retry_after_format: 'seconds' | 'http-date';
  seed: string;
}

export const NO_FAULTS: FaultSettings = {
  error_rate: 0,
  error_status: 503,
  latency_ms: 0,
  latency_jitter_ms: 0,
  truncate_rate: 0,
  reset_rate: 0,
  repeat_page_rate: 0,
  burst_429: 0,
  retry_after_seconds: 1,
  retry_after_format: 'seconds',
  seed: 'faults',
};

export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'reset' }
  | { kind: 'error'; status: number }
  | { kind: 'throttle'; retryAfter: string };

export interface Faults {
  settings(): FaultSettings;
  update(patch: Partial<FaultSettings>): FaultSettings;
  clear(): void;
  /** Decide, before handling a request, whether it fails outright. */
  decide(now?: Date): FaultDecision;
  delayMs(): number;
  shouldTruncate(): boolean;
  shouldRepeatPage(): boolean;
}

export function formatRetryAfter(seconds: number, format: 'seconds' | 'http-date', now = new Date()): string {
  return format === 'seconds' ? String(seconds) : new Date(now.getTime() + seconds * 1000).toUTCString();
}

export function createFaults(): Faults {
  let current: FaultSettings = { ...NO_FAULTS };
  let rng: Rng = createRng(current.seed);
  return {
    settings: () => ({ ...current }),
    update(patch) {
      current = { ...current, ...patch };
      rng = createRng(current.seed);
      return { ...current };
    },
    clear() {
      current = { ...NO_FAULTS };
      rng = createRng(current.seed);
    },
    decide(now = new Date()) {
      if (current.burst_429 > 0) {
        current.burst_429 -= 1;
        return { kind: 'throttle', retryAfter: formatRetryAfter(current.retry_after_seconds, current.retry_after_format, now) };
      }
      if (current.reset_rate > 0 && rng.chance(current.reset_rate)) return { kind: 'reset' };
      if (current.error_rate > 0 && rng.chance(current.error_rate)) return { kind: 'error', status: current.error_status };
      return { kind: 'none' };
    },
    delayMs: () => current.latency_ms + (current.latency_jitter_ms > 0 ? rng.int(0, current.latency_jitter_ms) : 0),
    shouldTruncate: () => current.truncate_rate > 0 && rng.chance(current.truncate_rate),
    shouldRepeatPage: () => current.repeat_page_rate > 0 && rng.chance(current.repeat_page_rate),
  };
}
