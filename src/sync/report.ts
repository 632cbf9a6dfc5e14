import type { ProviderId } from '../domain/certificate.ts';
import type { ErrorCode } from '../errors.ts';
import type { RunWarning } from '../providers/provider.ts';
import { reportError } from '../redact.ts';

export { reportError } from '../redact.ts';

/** What a sync run did; stored in sync_runs.report_json, returned by runSourceSync, printed by `certhub sync --json`. */
export interface SyncReport {
  /** Null when the run never started (the source was already syncing, or could not be set up). */
  run_id: string | null;
  /** The source's id as configured (its slug). */
  source: string;
  provider: ProviderId;
  status: 'succeeded' | 'failed';
  started_at: string;
  finished_at: string;
  duration_ms: number;
  /** Pages saved (each with its checkpoint). */
  pages: number;
  certificates: { created: number; updated: number; unchanged: number; deleted: number };
  /** Requests this run made, by endpoint (as the HTTP client names them). */
  requests_by_endpoint: Record<string, number>;
  throttled_429: number;
  retries: number;
  /** What the run could not do fully without failing (summed by code, in the order first seen); [] when none. */
  warnings: Required<RunWarning>[];
  /** One line; never a secret. */
  error: null | { code: ErrorCode; message: string };
}

/** The HTTP client's counters this run cares about. */
export interface RequestStats {
  requests_by_endpoint: Record<string, number>;
  throttled_429: number;
  retries: number;
}

export const NO_REQUESTS: RequestStats = { requests_by_endpoint: {}, throttled_429: 0, retries: 0 };

/** Counters since `before`: the client's counters are cumulative over its life, a run reports its own share. */
export function diffRequestStats(before: RequestStats, after: RequestStats): RequestStats {
  const byEndpoint: Record<string, number> = {};
  for (const [endpoint, count] of Object.entries(after.requests_by_endpoint)) {
    const n = count - (before.requests_by_endpoint[endpoint] ?? 0);
    if (n > 0) byEndpoint[endpoint] = n;
  }
  return {
    requests_by_endpoint: byEndpoint,
    throttled_429: Math.max(0, after.throttled_429 - before.throttled_429),
    retries: Math.max(0, after.retries - before.retries),
  };
}

/** The report of a run that could not start (the message of `err` as the failure). */
export function notStartedReport(
  source: { id: string; provider: ProviderId },
  err: unknown,
  at: Date,
  secrets: readonly string[] = [],
): SyncReport {
  const iso = at.toISOString();
  return {
    run_id: null,
    source: source.id,
    provider: source.provider,
    status: 'failed',
    started_at: iso,
    finished_at: iso,
    duration_ms: 0,
    pages: 0,
    certificates: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
    ...NO_REQUESTS,
    requests_by_endpoint: {},
    warnings: [],
    error: reportError(err, secrets),
  };
}

/** Adds a page's warnings to the run's: one entry per code, counts summed, the first message kept. */
export function addWarnings(into: Map<string, Required<RunWarning>>, warnings: readonly RunWarning[] | undefined): void {
  for (const w of warnings ?? []) {
    const count = w.count ?? 1;
    if (count <= 0) continue;
    const seen = into.get(w.code);
    if (seen === undefined) into.set(w.code, { code: w.code, message: w.message, count });
    else seen.count += count;
  }
}
