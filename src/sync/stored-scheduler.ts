/**
 * The scheduler `certhub serve` runs, driven by the store rather than certhub.yaml: every enabled source of every
 * tenant (those created through the API too) syncs every `sync_every_ms` of its settings, through the launcher. The
 * list of sources is re-read every minute and whenever the API changes a source (refresh()), so a new source starts
 * syncing at once and a disabled or deleted one stops being scheduled. Each source has its own loop (scheduler.ts):
 * runs of a source never overlap, and a changed interval restarts the loop from the source's last run.
 */
import { DEFAULT_SYNC_EVERY_MS } from '../config/schema.ts';
import type { ProviderId } from '../domain/certificate.ts';
import { isAppError } from '../errors.ts';
import type { Source, Store } from '../store/index.ts';
import type { BackgroundSyncLauncher } from './launcher.ts';
import { startSyncScheduler, type SyncScheduler } from './scheduler.ts';

export const DEFAULT_REFRESH_MS = 60_000;

export interface StoredSchedulerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StoredSchedulerOptions {
  store: Store;
  launcher: Pick<BackgroundSyncLauncher, 'launch'>;
  /** False for providers this build has no connector for: their sources are not scheduled (with a warning). */
  hasConnector(provider: ProviderId): boolean;
  logger?: StoredSchedulerLogger;
  /** How often the list of sources is re-read; default a minute. */
  refreshEveryMs?: number;
  random?: () => number;
}

export interface StoredSyncScheduler {
  /** Re-reads the stored sources now and (re)schedules them; resolves once applied. Never rejects. */
  refresh(): Promise<void>;
  /** When the source's next scheduled run is due; null when it is not scheduled (disabled, unknown) or running now. */
  nextSyncAt(sourceId: string): Date | null;
  /** Stops scheduling. Runs in flight are the launcher's: its stop() aborts them. */
  stop(): Promise<void>;
}

interface Loop {
  everyMs: number;
  scheduler: SyncScheduler;
}

/** The source's interval: `sync_every_ms` of its settings (as certhub.yaml and the API store it), default 1h. */
export function syncEveryMs(source: Source): number {
  const value = source.settings.sync_every_ms;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : DEFAULT_SYNC_EVERY_MS;
}

/** Resolves when `promise` settles or `signal` aborts, whichever is first. */
function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    promise.then(done, done);
  });
}

export function startStoredScheduler(opts: StoredSchedulerOptions): StoredSyncScheduler {
  const { store, launcher } = opts;
  const logger: StoredSchedulerLogger = opts.logger ?? { info: () => undefined, warn: () => undefined, error: () => undefined };
  const loops = new Map<string, Loop>();
  const nextAt = new Map<string, Date>();
  const retiring = new Set<Promise<void>>();
  const warnedNoConnector = new Set<string>();
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();

  function retire(sourceId: string): void {
    const loop = loops.get(sourceId);
    if (loop === undefined) return;
    loops.delete(sourceId);
    nextAt.delete(sourceId);
    const ending = loop.scheduler.stop().finally(() => retiring.delete(ending));
    retiring.add(ending);
  }

  function schedule(source: Source, everyMs: number): void {
    const scheduler = startSyncScheduler({
      sources: [{ key: source.slug, everyMs }],
      ...(opts.random === undefined ? {} : { random: opts.random }),
      async lastStartedAt() {
        const [last] = await store.sync.listRuns({ sourceId: source.id, limit: 1 });
        return last === undefined ? null : new Date(last.started_at);
      },
      onScheduled: (_s, at) => nextAt.set(source.id, at),
      async runSource(_s, signal) {
        nextAt.delete(source.id);
        try {
          const { done } = await launcher.launch(source.id);
          // A retired loop (source changed or disabled) stops waiting; the run itself goes on to its end.
          await untilAborted(done, signal);
        } catch (err) {
          if (isAppError(err) && err.code === 'conflict') logger.info({ source: source.slug }, `sync ${source.slug} skipped: ${err.message}`);
          else if (isAppError(err) && (err.code === 'not_found' || err.code === 'cancelled')) return;
          else throw err;
        }
      },
      onError: (_s, err) => logger.error({ source: source.slug, tenant: source.tenant_id, err }, `scheduler: sync ${source.slug} failed to start`),
    });
    loops.set(source.id, { everyMs, scheduler });
  }

  async function apply(): Promise<void> {
    if (stopped) return;
    const sources = await store.sources.listAllSourcesForScheduler();
    const wanted = new Map<string, Source>();
    for (const source of sources) {
      if (!source.enabled) continue;
      if (!opts.hasConnector(source.provider)) {
        if (!warnedNoConnector.has(source.id)) {
          warnedNoConnector.add(source.id);
          logger.warn({ source: source.slug, provider: source.provider }, `source ${source.slug} not scheduled: no connector for ${source.provider}`);
        }
        continue;
      }
      wanted.set(source.id, source);
    }
    for (const id of [...loops.keys()]) if (!wanted.has(id)) retire(id);
    for (const [id, source] of wanted) {
      const everyMs = syncEveryMs(source);
      const current = loops.get(id);
      if (current !== undefined && current.everyMs === everyMs) continue;
      if (current !== undefined) retire(id);
      schedule(source, everyMs);
    }
  }

  function refresh(): Promise<void> {
    chain = chain.then(apply).catch((err: unknown) => logger.error({ err }, 'scheduler: cannot read the sources'));
    return chain;
  }

  const timer = setInterval(() => void refresh(), opts.refreshEveryMs ?? DEFAULT_REFRESH_MS);
  timer.unref();
  void refresh();

  let stopping: Promise<void> | null = null;
  return {
    refresh,
    nextSyncAt: (sourceId) => nextAt.get(sourceId) ?? null,
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        await chain;
        stopped = true;
        for (const id of [...loops.keys()]) retire(id);
        await Promise.all([...retiring]);
      })();
      return stopping;
    },
  };
}
