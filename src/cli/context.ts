import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../config/index.ts';
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
      : loadSecretKey({ base64: config.secretKey, dataDir: config.dataDir, warn: (line) => process.stderr.write(`${line}\n`) });
  return createStore({ url: config.database, secretKey });
}
