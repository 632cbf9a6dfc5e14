import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../config/index.ts';
import { loadSecretKey } from '../secrets.ts';
import { AppError } from '../errors.ts';
import { createStore, DEFAULT_TENANT_SLUG, type Store, type Tenant } from '../store/index.ts';
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
      : loadSecretKey({ base64: config.secretKey, dataDir: config.dataDir, warn: (line) => process.stderr.write(`${line}\n`) });
  return createStore({ url: config.database, secretKey });
}

/**
 * Opens the (migrated) store, runs `work` with it and the tenant `--tenant` names (default: the default tenant),
 * closes. `create`: a tenant that does not exist yet is created; otherwise it is a one-line error.
 */
export async function withTenant<T>(
  opts: GlobalOptions & { tenant?: string },
  work: (store: Store, tenant: Tenant, config: Config) => Promise<T>,
  create = false,
): Promise<T> {
  const config = loadCliConfig(opts);
  const store = await openStoreFromConfig(config);
  try {
    await store.migrate();
    const slug = opts.tenant ?? DEFAULT_TENANT_SLUG;
    let tenant = await store.tenants.getTenantBySlug(slug);
    if (tenant === null && create) tenant = await store.tenants.createTenant({ slug, name: slug });
    if (tenant === null) throw new AppError('invalid_request', `unknown tenant "${slug}"`);
    return await work(store, tenant, config);
  } finally {
    await store.close();
  }
}
