import { maskSecrets, type Config } from '../../config/index.ts';

/** The database as it is safe to print: the SQLite path, or the PostgreSQL URL without its password. */
export function describeDatabase(config: Config): string {
  return maskSecrets(config).database;
}
