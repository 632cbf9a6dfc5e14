/**
 * Syncing the sources certhub.yaml configures: pick the connector, build the source's HTTP client, run the engine.
 * Used by `certhub sync` (`certhub serve` syncs what the store holds: stored-scheduler.ts).
 */
import type { SourceConfig } from '../config/index.ts';
import type { ProviderId } from '../domain/certificate.ts';
import { AppError } from '../errors.ts';
import type { AnyProvider } from '../providers/index.ts';
import type { Store } from '../store/index.ts';
import { runSourceSync, type HttpClient, type SyncProgress } from './engine.ts';
import { notStartedReport, secretValues, type SyncReport } from './report.ts';

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
  /** certhub's clock for this run (default: the wall clock). */
  now?: () => Date;
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
        ...(opts.now === undefined ? {} : { now: opts.now }),
      });
    } finally {
      await http.close().catch(() => undefined);
    }
  } catch (err) {
    return notStartedReport(source, err, new Date(), secretValues(source));
  }
}
