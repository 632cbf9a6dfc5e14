/**
 * Starts sync runs of stored sources in the background: the way in for the API (POST /v1/sources/{id}/sync) and the
 * store-driven scheduler. A start answers as soon as the run is recorded, then the run goes on; while it runs its
 * progress and the certificates it changes are published on the event bus to the source's tenant, and its report goes
 * to the metrics when it ends. stop() aborts every run in flight and waits until each has recorded itself.
 */
import { AppError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { SourceConnector, SourceSession } from '../providers/connector.ts';
import type { Source, Store, SyncRun } from '../store/index.ts';
import { runSourceSync, type SyncProgress } from './engine.ts';
import { notStartedReport, reportError, type SyncReport } from './report.ts';
import type { SourceConfig } from '../config/schema.ts';
import { sourceSecretValues } from '../providers/registry.ts';

export interface LauncherLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SyncLauncherOptions {
  store: Store;
  connector: SourceConnector;
  events: EventBus;
  /** Told of every finished run (the API's Prometheus metrics). */
  metrics?: { observeSyncRun(report: SyncReport, where: { tenant: string }): void };
  logger?: LauncherLogger;
  /** Default: the engine's. */
  lockTtlMs?: number;
  /** The clock of the runs' timestamps (tests pin it; default the wall clock). */
  now?: () => Date;
}

export interface LaunchOptions {
  full?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: SyncProgress) => void;
}

export interface LaunchedRun {
  /** As recorded when it started (status `running`). */
  run: SyncRun;
  /** The run's report once it has finished and recorded itself (failed runs too). */
  done: Promise<SyncReport>;
}

export interface BackgroundSyncLauncher {
  /** SyncLauncher (api/deps.ts): the run as recorded; AppError('conflict') when the source is syncing already. */
  start(sourceId: string, opts?: { full?: boolean }): Promise<SyncRun>;
  /**
   * start, and the report when the run ends; `signal` aborts this run (the scheduler's stop, the CLI's Ctrl-C), and
   * `onProgress` is told of every saved page besides the event bus (the CLI's terminal lines).
   */
  launch(sourceId: string, opts?: LaunchOptions): Promise<LaunchedRun>;
  /** Runs in flight, by source id. */
  runningSources(): string[];
  /** Aborts the runs in flight and resolves once every one has ended; later starts are refused. Idempotent. */
  stop(): Promise<void>;
}

const quiet: LauncherLogger = { info: () => undefined, error: () => undefined };

export function createSyncLauncher(opts: SyncLauncherOptions): BackgroundSyncLauncher {
  const { store, connector, events } = opts;
  const logger = opts.logger ?? quiet;
  const inFlight = new Map<string, { sourceId: string; controller: AbortController; ended: Promise<unknown> }>();
  let stopping: Promise<void> | null = null;
  let launches = 0;

  async function launch(sourceId: string, launchOpts: LaunchOptions = {}): Promise<LaunchedRun> {
    if (stopping !== null) throw new AppError('cancelled', 'certhub is shutting down; no new sync runs');
    const source = await store.sources.getSourceForLauncher(sourceId);
    if (source === null) throw new AppError('not_found', `source ${sourceId} not found`);

    const controller = new AbortController();
    const outer = launchOpts.signal;
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted === true) controller.abort(outer.reason);
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    let session: SourceSession;
    try {
      session = await connector.open(source, controller.signal);
    } catch (err) {
      outer?.removeEventListener('abort', onOuterAbort);
      throw err;
    }
    const publish = (event: Parameters<EventBus['publish']>[1]) => events.publish(source.tenant_id, event);
    const key = `launch-${++launches}`;

    return new Promise<LaunchedRun>((resolve, reject) => {
      let started: SyncRun | null = null;
      let last = { created: 0, updated: 0 };
      const onProgress = (p: SyncProgress) => {
        launchOpts.onProgress?.(p);
        publish({
          type: 'sync.progress',
          source_id: source.id,
          source: source.slug,
          run_id: p.run_id,
          done: p.done ?? p.certificates,
          total: p.total ?? null,
          created: p.created,
          updated: p.updated,
          unchanged: p.unchanged,
        });
        const created = p.created - last.created;
        const updated = p.updated - last.updated;
        last = { created: p.created, updated: p.updated };
        if (created > 0 || updated > 0) {
          publish({ type: 'certificates.changed', source_id: source.id, source: source.slug, created, updated, deleted: 0 });
        }
      };

      const running = runSourceSync({
        store,
        session,
        signal: controller.signal,
        onProgress,
        ...(launchOpts.full === undefined ? {} : { full: launchOpts.full }),
        ...(opts.lockTtlMs === undefined ? {} : { lockTtlMs: opts.lockTtlMs }),
        ...(opts.now === undefined ? {} : { now: opts.now }),
        onRunStarted(run) {
          started = run;
          publish({ type: 'sync.started', source_id: source.id, source: source.slug, run_id: run.id });
          logger.info({ source: source.slug, tenant: source.tenant_id, run_id: run.id }, `sync ${source.slug} started`);
          resolve({ run, done });
        },
      });

      const done: Promise<SyncReport> = running
        .then((report) => {
          finished(source, report, session.resolved.tenant);
          return report;
        })
        .catch((err: unknown) => {
          if (started === null) {
            reject(err instanceof Error ? err : new Error(String(err)));
          } else {
            // The run began but could not record its end (the database went away): say so, never silently.
            const error = reportError(err, session.secrets);
            publish({ type: 'sync.finished', source_id: source.id, source: source.slug, run_id: started.id, status: 'failed', error: error.message });
            logger.error({ source: source.slug, run_id: started.id, error }, `sync ${source.slug} failed: ${error.message}`);
          }
          throw err;
        })
        .finally(async () => {
          outer?.removeEventListener('abort', onOuterAbort);
          inFlight.delete(key);
          await session.close();
        });
      // Before the run started, the rejection went to the caller; after, to whoever awaits `done`.
      const ended = done.catch(() => undefined);
      // From here on stop() aborts and waits for it, even while it is still taking its lock.
      inFlight.set(key, { sourceId: source.id, controller, ended });
    });

    function finished(s: Source, report: SyncReport, tenant: string): void {
      if (report.certificates.deleted > 0) {
        publish({ type: 'certificates.changed', source_id: s.id, source: s.slug, created: 0, updated: 0, deleted: report.certificates.deleted });
      }
      publish({
        type: 'sync.finished',
        source_id: s.id,
        source: s.slug,
        run_id: report.run_id,
        status: report.status,
        error: report.error?.message ?? null,
      });
      opts.metrics?.observeSyncRun(report, { tenant });
      if (report.status === 'succeeded') logger.info({ report }, `sync ${s.slug} succeeded`);
      else if (report.error?.code === 'cancelled') logger.info({ report }, `sync ${s.slug} stopped: ${report.error.message}`);
      else logger.error({ report }, `sync ${s.slug} failed: ${report.error?.message ?? 'unknown error'}`);
    }
  }

  return {
    launch,
    async start(sourceId, startOpts) {
      return (await launch(sourceId, startOpts)).run;
    },
    runningSources: () => [...inFlight.values()].map((r) => r.sourceId),
    stop() {
      stopping ??= (async () => {
        const runs = [...inFlight.values()];
        for (const r of runs) r.controller.abort(new AppError('cancelled', 'sync aborted (shutting down)'));
        await Promise.all(runs.map((r) => r.ended));
      })();
      return stopping;
    },
  };
}

/**
 * One run of a source certhub.yaml configures (applied to the store: config/apply.ts) through
 * the launcher, as `certhub serve` runs its sources, waiting for its report. A run that could not start (not in the
 * store, no connector, already syncing, bad settings) is reported failed with `run_id: null` rather than thrown.
 */
export async function runConfiguredSource(
  launcher: Pick<BackgroundSyncLauncher, 'launch'>,
  store: Store,
  source: SourceConfig,
  opts: LaunchOptions = {},
): Promise<SyncReport> {
  try {
    const tenant = await store.tenants.getTenantBySlug(source.tenant);
    const stored = tenant === null ? null : await store.sources.getSourceBySlug(tenant.id, source.id);
    if (stored === null) throw new AppError('not_found', `source ${source.id} is not in the store (its configuration has not been applied)`);
    return await (await launcher.launch(stored.id, opts)).done;
  } catch (err) {
    return notStartedReport(source, err, new Date(), sourceSecretValues(source));
  }
}
