import { randomBytes } from 'node:crypto';
import { loadConfig, splitSourceSecrets, type Config } from '../config/index.ts';
import { loadSecretKey } from '../secrets.ts';
import { createStore, type Store } from '../store/index.ts';
import type { GlobalOptions } from './runtime.ts';

/** The configuration as the command line names it (`--config`, else CERTHUB_CONFIG, else ./certhub.yaml). */
export function loadCliConfig(globals: GlobalOptions): Config {
  return loadConfig({ path: globals.config });
}

/** The secret key, then the store: every command that touches the database opens it here. */
export async function openStoreFromConfig(config: Config): Promise<Store> {
  const secretKey =
    config.database === 'sqlite::memory:' && config.secretKey === undefined
      ? // Nothing outlives an in-memory database, so a throwaway key protects it as well as any.
        randomBytes(32)
      : loadSecretKey({ base64: config.secretKey, dataDir: config.dataDir });
  return createStore({ url: config.database, secretKey });
}

export interface AppliedSource {
  tenant: string;
  id: string;
  provider: string;
  enabled: boolean;
}

/** Brings the store's sources in line with certhub.yaml (creating tenants it names); the store must be migrated. */
export async function applyConfiguredSources(store: Store, config: Config): Promise<AppliedSource[]> {
  const tenantIds = new Map<string, string>();
  const applied: AppliedSource[] = [];
  for (const source of config.sources) {
    let tenantId = tenantIds.get(source.tenant);
    if (tenantId === undefined) {
      const tenant =
        (await store.tenants.getTenantBySlug(source.tenant)) ??
        (await store.tenants.createTenant({ slug: source.tenant, name: source.tenant }));
      tenantId = tenant.id;
      tenantIds.set(source.tenant, tenantId);
    }
    const { settings, credentials } = splitSourceSecrets(source);
    const stored = await store.sources.upsertSourceFromConfig(tenantId, {
      slug: source.id,
      provider: source.provider,
      settings,
      credentials,
    });
    // upsertSourceFromConfig re-enables; `enabled: false` in the file wins.
    if (!source.enabled) await store.sources.setSourceEnabled(stored.id, false);
    applied.push({ tenant: source.tenant, id: source.id, provider: source.provider, enabled: source.enabled });
  }
  return applied;
}
