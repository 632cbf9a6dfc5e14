/**
 * Starts sync runs of stored sources in the background: the way in for the API (POST /v1/sources/{id}/sync) and the
 * store-driven scheduler. A start answers as soon as the run is recorded, then the run goes on; while it runs its
 * progress and the certificates it changes are published on the event bus to the source's tenant, and its report goes
 * to the metrics when it ends. stop() aborts every run in flight and waits until each has recorded itself.
 */
import { AppError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { SourceConnector } from '../providers/connector.ts';
import type { Source, Store, SyncRun } from '../store/index.ts';
import type { SyncDeps } from './configured.ts';
import { runSourceSync, type SyncProgress } from './engine.ts';
import { reportError, secretValues, type SyncReport } from './report.ts';

export interface LauncherLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SyncLauncherOptions {
  store: Store;
  connector: SourceConnector;
  syncDeps: SyncDeps;
  events: EventBus;
  /** Told of every finished run (the API's Prometheus metrics). */
  metrics?: { observeSyncRun(report: SyncReport): void };
  logger?: LauncherLogger;
  /** Default: the engine's. */
  lockTtlMs?: number;
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
  /** start, and the report when the run ends; `signal` aborts this run (the scheduler's stop). */
  launch(sourceId: string, opts?: { full?: boolean; signal?: AbortSignal }): Promise<LaunchedRun>;
  /** Runs in flight, by source id. */
  runningSources(): string[];
  /** Aborts the runs in flight and resolves once every one has ended; later starts are refused. Idempotent. */
  stop(): Promise<void>;
}

const quiet: LauncherLogger = { info: () => undefined, error: () => undefined };

export function createSyncLauncher(opts: SyncLauncherOptions): BackgroundSyncLauncher {
  const { store, connector, syncDeps, events } = opts;
  const logger = opts.logger ?? quiet;
  const inFlight = new Map<string, { sourceId: string; controller: AbortController; ended: Promise<unknown> }>();
  let stopping: Promise<void> | null = null;
  let launches = 0;

  async function launch(sourceId: string, launchOpts: { full?: boolean; signal?: AbortSignal } = {}): Promise<LaunchedRun> {
    if (stopping !== null) throw new AppError('cancelled', 'certhub is shutting down; no new sync runs');
    const source = await store.sources.getSource(sourceId);
    if (source === null) throw new AppError('not_found', `source ${sourceId} not found`);
    const config = await connector.configOf(source);
    const provider = syncDeps.findProvider(source.provider);
    if (provider === null) throw new AppError('invalid_config', `no connector for provider ${source.provider} in this build of certhub`);

    const controller = new AbortController();
    const outer = launchOpts.signal;
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted === true) controller.abort(outer.reason);
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    const http = syncDeps.createHttp(config, provider, controller.signal);
    const publish = (event: Parameters<EventBus['publish']>[1]) => events.publish(source.tenant_id, event);
    const key = `launch-${++launches}`;

    return new Promise<LaunchedRun>((resolve, reject) => {
      let started: SyncRun | null = null;
      let last = { created: 0, updated: 0 };
      const onProgress = (p: SyncProgress) => {
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
        source: config,
        provider,
        http,
        signal: controller.signal,
        onProgress,
        ...(launchOpts.full === undefined ? {} : { full: launchOpts.full }),
        ...(opts.lockTtlMs === undefined ? {} : { lockTtlMs: opts.lockTtlMs }),
        onRunStarted(run) {
          started = run;
          publish({ type: 'sync.started', source_id: source.id, source: source.slug, run_id: run.id });
          logger.info({ source: source.slug, tenant: source.tenant_id, run_id: run.id }, `sync ${source.slug} started`);
          resolve({ run, done });
        },
      });

      const done: Promise<SyncReport> = running
        .then((report) => {
          finished(source, report);
          return report;
        })
        .catch((err: unknown) => {
          if (started === null) {
            reject(err instanceof Error ? err : new Error(String(err)));
          } else {
            // The run began but could not record its end (the database went away): say so, never silently.
            const error = reportError(err, secretValues(config));
            publish({ type: 'sync.finished', source_id: source.id, source: source.slug, run_id: started.id, status: 'failed', error: error.message });
            logger.error({ source: source.slug, run_id: started.id, error }, `sync ${source.slug} failed: ${error.message}`);
          }
          throw err;
        })
        .finally(async () => {
          outer?.removeEventListener('abort', onOuterAbort);
          inFlight.delete(key);
          await http.close().catch(() => undefined);
        });
      // Before the run started, the rejection went to the caller; after, to whoever awaits `done`.
      const ended = done.catch(() => undefined);
      // From here on stop() aborts and waits for it, even while it is still taking its lock.
      inFlight.set(key, { sourceId: source.id, controller, ended });
    });

    function finished(s: Source, report: SyncReport): void {
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
      opts.metrics?.observeSyncRun(report);
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
