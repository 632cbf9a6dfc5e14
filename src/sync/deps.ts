/** The real dependencies of syncing configured sources: the connector registry and the shared HTTP client. */
import { findProvider } from '../providers/index.ts';
import {
  accountKey,
  createLimiterRegistry,
  createProviderHttpClient,
  defaultRate,
  type HttpLogger,
  type LimiterRegistry,
  type RateLimit,
} from '../providers/http/index.ts';
import type { SyncDeps } from './configured.ts';
import { secretValues } from './report.ts';

export interface SyncDepsOptions {
  /**
   * Buckets per provider account. One per process, shared by everything that talks to providers, so that together
   * they stay under each account's limit. Default: a new registry.
   */
  limiters?: LimiterRegistry;
  logger?: HttpLogger;
}

export function defaultSyncDeps(opts: SyncDepsOptions = {}): SyncDeps {
  const limiters = opts.limiters ?? createLimiterRegistry();
  return {
    findProvider,
    createHttp(source, provider, signal) {
      const secrets = secretValues(source);
      const rate: RateLimit | null =
        source.rate_limit !== undefined
          ? { requests: source.rate_limit.requests, perSeconds: source.rate_limit.per_seconds }
          : provider.rateLimit === undefined
            ? null
            : defaultRate(provider.rateLimit);
      const limiter =
        rate === null ? undefined : limiters.bucket(accountKey(source.provider, source.base_url, secrets.join('\u0000')), rate);
      return createProviderHttpClient({
        secrets,
        ...(limiter === undefined ? {} : { limiter }),
        ...(opts.logger === undefined ? {} : { logger: opts.logger }),
        ...(signal === undefined ? {} : { signal }),
      });
    },
  };
}
