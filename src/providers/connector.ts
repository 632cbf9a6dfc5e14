/**
 * How certhub talks to a provider account: a stored source opened as a session, with its resolved configuration
 * (credentials decrypted), its provider, the settings that provider's configSchema parsed, and an HTTP client that
 * shares the process's rate-limit buckets with everything else using the same account. Syncs, connection tests, file
 * downloads and live status checks all open their source here.
 */
import { joinSourceSecrets } from '../config/credentials.ts';
import type { SourceConfig } from '../config/schema.ts';
import { AppError } from '../errors.ts';
import type { Source, Store } from '../store/index.ts';
import {
  accountKey,
  createLimiterRegistry,
  createProviderHttpClient,
  defaultRate,
  type HttpLogger,
  type LimiterRegistry,
  type ProviderHttpClient,
  type RateLimit,
} from './http/index.ts';
import { REFUSE_PRIVATE_EGRESS, type EgressPolicy } from './http/egress.ts';
import type { AnyProvider } from './provider.ts';
import { findProvider, sourceSecretValues } from './registry.ts';

export interface SourceSession {
  source: Source;
  /** The source as certhub.yaml would resolve it, credentials included: never serialize it. */
  resolved: SourceConfig;
  provider: AnyProvider;
  /** What the provider's configSchema parsed from `resolved`: what its pull, fetchFile and checkStatus take. */
  config: unknown;
  http: ProviderHttpClient;
  /** The source's credential values, to scrub from anything said about it. */
  secrets: string[];
  close(): Promise<void>;
}

export interface SourceConnector {
  /** The source's resolved configuration (credentials decrypted); never serialize it. */
  configOf(source: Source): Promise<SourceConfig>;
  /**
   * The source as a session; close it when done. `signal` aborts its requests. AppError('invalid_config') when this
   * build has no provider for it or its stored settings do not parse.
   */
  open(source: Source, signal?: AbortSignal): Promise<SourceSession>;
}

/** The account's HTTP client for one use (rate limit shared per provider account, retries, redaction). */
export type CreateHttp = (source: SourceConfig, provider: AnyProvider, signal: AbortSignal | undefined) => ProviderHttpClient;

export interface SourceConnectorOptions {
  store: Store;
  /**
   * Buckets per provider account. One per process, shared by everything that talks to providers, so that together
   * they stay under each account's limit. Default: a new registry.
   */
  limiters?: LimiterRegistry;
  logger?: HttpLogger;
  /** Default: the provider registry. Tests hand in fakes. */
  findProvider?: (id: string) => AnyProvider | null;
  /** Default: the real client over `limiters`. Tests hand in fakes. */
  createHttp?: CreateHttp;
  /**
   * The egress policy of every client it opens (certhub.yaml `outbound:`). Default REFUSE_PRIVATE_EGRESS: public
   * addresses only. The demo, the sandbox and tests against simulators on 127.0.0.1 pass ALLOW_PRIVATE_EGRESS.
   */
  outbound?: EgressPolicy;
}

/** The rate a source's requests are paced at: its own `rate_limit`, else 90% of the provider's documented limit, else none. */
export function rateOf(source: SourceConfig, provider: AnyProvider): RateLimit | null {
  if (source.rate_limit !== undefined) return { requests: source.rate_limit.requests, perSeconds: source.rate_limit.per_seconds };
  return provider.rateLimit === undefined ? null : defaultRate(provider.rateLimit);
}

function httpFactory(limiters: LimiterRegistry, logger: HttpLogger | undefined, egress: EgressPolicy): CreateHttp {
  return (source, provider, signal) => {
    const secrets = sourceSecretValues(source);
    const rate = rateOf(source, provider);
    const baseUrl = typeof source.base_url === 'string' ? source.base_url : '';
    const limiter = rate === null ? undefined : limiters.bucket(accountKey(source.provider, baseUrl, secrets.join('\u0000')), rate);
    return createProviderHttpClient({
      secrets,
      egress,
      ...(provider.retry === undefined ? {} : { retry: provider.retry }),
      ...(limiter === undefined ? {} : { limiter }),
      ...(logger === undefined ? {} : { logger }),
      ...(signal === undefined ? {} : { signal }),
    });
  };
}

export function noProviderError(provider: string): AppError {
  return new AppError('invalid_config', `no connector for provider ${provider} in this build of certhub`);
}

export function createSourceConnector(opts: SourceConnectorOptions): SourceConnector {
  const { store } = opts;
  const find = opts.findProvider ?? findProvider;
  const createHttp = opts.createHttp ?? httpFactory(opts.limiters ?? createLimiterRegistry(), opts.logger, opts.outbound ?? REFUSE_PRIVATE_EGRESS);
  const connector: SourceConnector = {
    async configOf(source) {
      const tenant = await store.tenants.getTenant(source.tenant_id);
      const credentials = await store.sources.getSourceCredentials(source.tenant_id, source.id);
      return joinSourceSecrets(
        { slug: source.slug, provider: source.provider, tenant: tenant?.slug ?? source.tenant_id, enabled: source.enabled },
        source.settings,
        credentials,
      );
    },
    async open(source, signal) {
      const provider = find(source.provider);
      if (provider === null) throw noProviderError(source.provider);
      const resolved = await connector.configOf(source);
      const parsed = provider.configSchema.safeParse(resolved);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(source)'}: ${i.message}`).join('; ');
        throw new AppError('invalid_config', `source ${source.slug}: ${problems}`);
      }
      const http = createHttp(resolved, provider, signal);
      return {
        source,
        resolved,
        provider,
        config: parsed.data,
        http,
        secrets: sourceSecretValues(resolved),
        close: () => http.close().catch(() => undefined),
      };
    },
  };
  return connector;
}
