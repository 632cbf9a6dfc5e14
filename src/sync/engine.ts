/**
 * The sync engine: runs ONE source. It knows nothing about any provider: it takes the source's lock, pulls pages,
 * saves each page with its checkpoint (and the people it links to) in one transaction, and for full-scan providers
 * sweeps what a complete scan did not return. A crash at any instant leaves the store at the last saved page; the next
 * run resumes from its checkpoint.
 */
import { AppError, isAppError } from '../errors.ts';
import { createPersonResolver } from '../identity/resolver.ts';
import type { SourceSession } from '../providers/connector.ts';
import type { AnyProvider, Checkpoint, Page, PullContext, RunWarning } from '../providers/provider.ts';
import type { LockFence, PersonResolver, Store, SyncRun } from '../store/index.ts';
import { acquireSourceLock, DEFAULT_LOCK_TTL_MS } from './lock.ts';
import { addWarnings, diffRequestStats, reportError, type RequestStats, type SyncReport } from './report.ts';
import { withStoreRetries } from './store-retry.ts';

export type HttpClient = PullContext<unknown>['http'];

/** What a run needs of its source's session (providers/connector.ts): the stored source, its provider, parsed settings, client. */
export type SyncSession = Pick<SourceSession, 'source' | 'provider' | 'config' | 'http' | 'secrets'>;

export interface SyncProgress {
  source: string;
  run_id: string;
  pages: number;
  /** Certificates saved so far this run (created + updated + unchanged). */
  certificates: number;
  created: number;
  updated: number;
  unchanged: number;
  /** As the provider reports it with the last page, when it can tell. */
  done?: number;
  total?: number;
  elapsed_ms: number;
}

export interface RunSourceSyncOptions {
  store: Store;
  /** The source to sync, opened (connector.open); the caller closes it. */
  session: SyncSession;
  /** Start from no checkpoint (a new full scan for full-scan providers, everything for incremental ones). */
  full?: boolean;
  signal?: AbortSignal;
  /** The clock of the run's timestamps (tests pin it); locks always use the real clock. */
  now?: () => Date;
  onProgress?: (progress: SyncProgress) => void;
  /** Called once the run is recorded (status `running`) and holds the lock: from here on the run ends in a report. */
  onRunStarted?: (run: SyncRun) => void;
  /** Default 30 s; renewed every third of it. */
  lockTtlMs?: number;
  /**
   * The longest a run may take (default DEFAULT_MAX_RUN_MS): then it is aborted as `provider_unavailable`, keeping every
   * page it saved, and the next run resumes from its checkpoint. A provider that answers slowly forever cannot hold
   * the source's lock for good.
   */
  maxRunMs?: number;
  /** Default: identity resolution (createPersonResolver). */
  resolvePeople?: PersonResolver;
}

/** The client's cumulative counters this run reports (diffed per run: a client may serve several). */
function readStats(http: HttpClient): RequestStats {
  const s = http.stats();
  return { requests_by_endpoint: { ...s.requests_by_endpoint }, throttled_429: s.throttled_429, retries: s.retries };
}

/** Either signal aborting aborts the result (AbortSignal.any is Node 20.3+; this works on every 20.x). */
function anySignal(signals: readonly (AbortSignal | undefined)[]): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (s === undefined) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

function abortError(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  if (isAppError(reason)) return reason;
  return new AppError('cancelled', 'sync aborted (shutting down)', { cause: reason });
}

/** `6 h`, `90 s`, `250 ms`: a duration as a person reads it. */
function formatDuration(ms: number): string {
  if (ms >= 3600_000 && ms % 3600_000 === 0) return `${ms / 3600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/** Six hours: far more than a full scan of the biggest account takes at the providers' documented rates. */
export const DEFAULT_MAX_RUN_MS = 6 * 3600_000;

/**
 * Runs one sync of `source` and returns its report. A run that fails still returns (status `failed`, the error, and
 * everything it saved kept); only a run that cannot start throws: AppError('conflict') when the source is already
 * syncing (the session is open, so the source exists and its settings parsed).
 */
export async function runSourceSync(opts: RunSourceSyncOptions): Promise<SyncReport> {
  const { store } = opts;
  const { source, provider, config, http, secrets } = opts.session;
  const now = opts.now ?? (() => new Date());
  const full = opts.full === true;
  const resolvePeople = opts.resolvePeople ?? createPersonResolver();

  const lock = await acquireSourceLock(store, source, opts.lockTtlMs ?? DEFAULT_LOCK_TTL_MS);
  const maxRunMs = opts.maxRunMs ?? DEFAULT_MAX_RUN_MS;
  const overtime = new AbortController();
  const overtimeTimer = setTimeout(() => {
    overtime.abort(new AppError('provider_unavailable', `the run took longer than its maximum of ${formatDuration(maxRunMs)} and was stopped; the next run resumes from its last saved page`));
  }, maxRunMs);
  overtimeTimer.unref();
  try {
    const { fence } = lock;
    const run = await withStoreRetries(() => store.sync.startRun(source.id, { now: now() }));
    await lock.setRun(run.id);
    // Only the lock holder runs, so any other `running` run of this source died without finishing.
    await withStoreRetries(() =>
      store.locks.failAbandonedRuns(source.id, run.id, 'interrupted: the process running it stopped', { now: now() }),
    );
    try {
      opts.onRunStarted?.(run);
    } catch {
      // A listener's failure is not the run's: it goes on and ends in its report.
    }

    const startedMs = Date.parse(run.started_at);
    const counts = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
    let pages = 0;
    const statsBefore = readStats(http);
    const signal = anySignal([opts.signal, lock.lost, overtime.signal]);
    let failure: unknown = null;
    const warnings = new Map<string, Required<RunWarning>>();

    try {
      const stored = full ? null : ((await withStoreRetries(() => store.sync.getCheckpoint(source.id))) as Checkpoint | null);
      // Full scans (provider.ts, "Sweep semantics"): a scan may span runs. With a scan in progress this run resumes it,
      // and what the earlier runs saw counts as seen; otherwise a new scan starts now.
      let sweepSince: string | null = null;
      let resumedScan = false;
      const startOrResumeScan = async (): Promise<void> => {
        const scan = full ? null : await withStoreRetries(() => store.scans.get(source.id));
        if (scan === null) {
          await withStoreRetries(() => store.scans.begin(source.id, { started_at: run.started_at, run_id: run.id }, { fence }));
        }
        sweepSince = scan?.started_at ?? run.started_at;
        resumedScan = scan !== null;
      };
      // An incremental provider may still make a run a full scan (Page.fullScan): it is swept like one.
      let scanning = provider.completeness === 'full-scan';
      if (scanning) await startOrResumeScan();
      let unchangedScan = false;
      let sweepRefused = false;

      const ctx: PullContext<unknown> = {
        sourceId: source.id,
        config,
        http,
        full,
        signal,
        now,
        unseen: async (limit = 1000) => (scanning && sweepSince !== null ? store.certificates.listUnseen(source.id, sweepSince, limit) : []),
      };
      for await (const page of provider.pull(ctx, stored)) {
        if (signal.aborted) throw abortError(signal);
        if (!scanning && page.fullScan === true) {
          scanning = true;
          await startOrResumeScan();
        }
        if (page.unchanged === true) unchangedScan = true;
        if (page.sweep === false) sweepRefused = true;
        const saved = await savePage(store, source, page, now(), resolvePeople, fence, provider.push);
        pages += 1;
        addWarnings(warnings, page.warnings);
        counts.created += saved.created;
        counts.updated += saved.updated;
        counts.unchanged += saved.unchanged;
        opts.onProgress?.({
          source: source.slug,
          run_id: run.id,
          pages,
          certificates: counts.created + counts.updated + counts.unchanged,
          created: counts.created,
          updated: counts.updated,
          unchanged: counts.unchanged,
          ...(page.progress === undefined ? {} : { done: page.progress.done }),
          ...(page.progress?.total === undefined ? {} : { total: page.progress.total }),
          elapsed_ms: Math.max(0, now().getTime() - startedMs),
        });
      }
      if (signal.aborted) throw abortError(signal);

      if (scanning) {
        // Only after a complete scan: anything it did not return is gone from the provider. A fresh scan the provider
        // answered with "unchanged" re-read nothing, so there is nothing to compare. But a resumed scan answered
        // "unchanged" means an earlier run saved every page and died before sweeping: sweep now, from that scan's start.
        if (sweepSince !== null && !sweepRefused && (!unchangedScan || resumedScan)) {
          const since = sweepSince;
          const swept = await withStoreRetries(() => store.certificates.markMissingDeleted(source.id, since, { now: now(), fence }));
          counts.deleted = swept.deleted;
        }
        // The scan is over; the provider's last checkpoint makes its next pull begin a new one.
        await withStoreRetries(() => store.scans.end(source.id, { fence }));
      }
    } catch (err) {
      failure = signal.aborted && !isAppError(err) ? abortError(signal) : err;
    }

    const finished = now();
    const requests = diffRequestStats(statsBefore, readStats(http));
    const report: SyncReport = {
      run_id: run.id,
      source: source.slug,
      provider: source.provider,
      status: failure === null ? 'succeeded' : 'failed',
      started_at: run.started_at,
      finished_at: finished.toISOString(),
      duration_ms: Math.max(0, finished.getTime() - startedMs),
      pages,
      certificates: counts,
      ...requests,
      warnings: [...warnings.values()],
      error: failure === null ? null : reportError(failure, secrets),
    };
    await withStoreRetries(() =>
      store.sync.finishRun(run.id, { status: report.status, report, error: report.error?.message ?? null }, { now: finished }),
    );
    return report;
  } finally {
    clearTimeout(overtimeTimer);
    await lock.release();
  }
}

/** Saves a page with its checkpoint under the run's lock (refused once it was taken over), retried while transient. */
function savePage(store: Store, source: SyncSession['source'], page: Page, at: Date, resolvePeople: PersonResolver, fence: LockFence, push: AnyProvider['push']) {
  // The transaction rolls back whole on a transient failure, so saving the page again is safe.
  return withStoreRetries(() =>
    store.certificates.savePage(source, page.certificates, page.checkpoint, {
      now: at,
      resolvePeople,
      fence,
      // Copies certhub pushed to this source are recognised as such (store/pushes.ts), not stored a second time.
      ...(push === undefined
        ? {}
        : { recognizePushed: (cert, copy) => copy.sent !== null && copy.attempt_started_at !== null && push.recognizes(cert, copy.sent, copy.attempt_started_at) }),
      ...(page.achievements === undefined ? {} : { catalog: page.achievements }),
    }),
  );
}
