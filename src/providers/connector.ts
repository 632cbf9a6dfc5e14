/**
 * A stored source as something to talk to: its resolved configuration (credentials decrypted), its connector and an
 * HTTP client that shares the process's rate-limit buckets with the sync. Used by the API for file downloads and
 * live status checks, and by the sync of sources created through the API.
 */
import { joinSourceSecrets, type SourceConfig } from '../config/index.ts';
import { AppError } from '../errors.ts';
import type { AnyProvider } from './index.ts';
import type { ProviderHttpClient } from './http/client.ts';
import type { Source, Store } from '../store/index.ts';
import type { SyncDeps } from '../sync/configured.ts';

export interface SourceSession {
  source: Source;
  config: SourceConfig;
  provider: AnyProvider;
  http: ProviderHttpClient;
  close(): Promise<void>;
}

export interface SourceConnector {
  /** The source's resolved configuration (credentials decrypted); never serialize it. */
  configOf(source: Source): Promise<SourceConfig>;
  /** AppError('invalid_config') when this build has no connector for the source's provider. */
  open(source: Source, signal?: AbortSignal): Promise<SourceSession>;
}

export function createSourceConnector(opts: { store: Store; syncDeps: SyncDeps }): SourceConnector {
  const { store, syncDeps } = opts;
  const connector: SourceConnector = {
    async configOf(source) {
      const tenant = await store.tenants.getTenant(source.tenant_id);
      const credentials = await store.sources.getSourceCredentials(source.id);
      return joinSourceSecrets(
        { slug: source.slug, provider: source.provider, tenant: tenant?.slug ?? source.tenant_id, enabled: source.enabled },
        source.settings,
        credentials,
      );
    },
    async open(source, signal) {
      const provider = syncDeps.findProvider(source.provider);
      if (provider === null) {
        throw new AppError('invalid_config', `no connector for provider ${source.provider} in this build of certhub`);
      }
      const config = await connector.configOf(source);
      const http = syncDeps.createHttp(config, provider, signal);
      return { source, config, provider, http, close: () => http.close().catch(() => undefined) };
    },
  };
  return connector;
}
