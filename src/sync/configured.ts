/**
 * Syncing the sources certhub.yaml configures: pick the connector, build the source's HTTP client, run the engine.
 * Shared by `certhub sync` and the scheduler in `certhub serve`.
 */
import type { Config, SourceConfig } from '../config.ts';
import type { ProviderId } from '../domain/certificate.ts';
import { AppError } from '../errors.ts';
import type { AnyProvider } from '../providers/index.ts';
import type { Store } from '../store/index.ts';
import { runSourceSync, type HttpClient, type SyncProgress } from './engine.ts';
import { notStartedReport, secretValues, type SyncReport } from './report.ts';
import { startSyncScheduler, type SyncScheduler } from './scheduler.ts';

export interface SyncDeps {
  /** The connector for a provider, or null when this build has none. */
  findProvider(id: ProviderId): AnyProvider | null;
  /**
   * The source's HTTP client for one run (rate limit shared per provider account, retries, redaction); closed after
   * the run. `signal` aborts its requests when the run is aborted.
   */
  createHttp(source: SourceConfig, provider: AnyProvider, signal: AbortSignal | undefined): HttpClient;
}

export interface SyncConfiguredOptions {
  store: Store;
  source: SourceConfig;
  deps: SyncDeps;
  full?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: SyncProgress) => void;
  lockTtlMs?: number;
}

/**
 * One run of a configured source, always ending in a report: a run that could not start (no connector, already
 * syncing, bad settings) is reported failed with `run_id: null` rather than thrown.
 */
export async function syncConfiguredSource(opts: SyncConfiguredOptions): Promise<SyncReport> {
  const { source, deps } = opts;
  try {
    const provider = deps.findProvider(source.provider);
    if (provider === null) {
      throw new AppError('invalid_config', `no connector for provider ${source.provider} in this build of certhub`);
    }
    const http = deps.createHttp(source, provider, opts.signal);
    try {
      return await runSourceSync({
        store: opts.store,
        source,
        provider,
        http,
        ...(opts.full === undefined ? {} : { full: opts.full }),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
        ...(opts.lockTtlMs === undefined ? {} : { lockTtlMs: opts.lockTtlMs }),
      });
    } finally {
      await http.close().catch(() => undefined);
    }
  } catch (err) {
    return notStartedReport(source, err, new Date(), secretValues(source));
  }
}

export interface ConfiguredSchedulerOptions {
  store: Store;
  config: Config;
  deps: SyncDeps;
  /** Structured log of each run (pino-shaped). */
  logger: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

/**
 * The scheduler over the enabled sources of the configuration. Sources without a connector in this build are left out
 * (with a warning); every run is logged with its report.
 */
export function startConfiguredScheduler(opts: ConfiguredSchedulerOptions): SyncScheduler {
  const { store, config, deps, logger } = opts;
  const sources = config.sources
    .filter((s) => s.enabled)
    .filter((s) => {
      if (deps.findProvider(s.provider) !== null) return true;
      logger.warn({ source: s.id, provider: s.provider }, `source ${s.id} not scheduled: no connector for ${s.provider}`);
      return false;
    })
    .map((source) => ({ key: `${source.tenant}/${source.id}`, everyMs: source.sync_every_ms, source }));

  return startSyncScheduler({
    sources,
    async lastStartedAt({ source }) {
      const tenant = await store.tenants.getTenantBySlug(source.tenant);
      const stored = tenant === null ? null : await store.sources.getSourceBySlug(tenant.id, source.id);
      if (stored === null) return null;
      const [last] = await store.sync.listRuns({ sourceId: stored.id, limit: 1 });
      return last === undefined ? null : new Date(last.started_at);
    },
    async runSource({ source }, signal) {
      const report = await syncConfiguredSource({ store, source, deps, signal });
      if (report.status === 'succeeded') logger.info({ report }, `sync ${source.id} succeeded`);
      else if (report.error?.code === 'conflict') logger.info({ report }, `sync ${source.id} skipped: ${report.error.message}`);
      else if (report.error?.code === 'cancelled') logger.info({ report }, `sync ${source.id} stopped: ${report.error.message}`);
      else logger.error({ report }, `sync ${source.id} failed: ${report.error?.message ?? 'unknown error'}`);
    },
    onError: (s, err) => logger.error({ source: s.key, err }, `scheduler: ${s.key}`),
  });
}
