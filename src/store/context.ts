import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../secrets.ts';
import type { IdGenerator } from './ids.ts';
import type { Database } from './schema.ts';

export type StoreDialect = 'sqlite' | 'postgres';

/** What every repository is built from; one per store, nothing module-level. */
export interface StoreContext {
  readonly dialect: StoreDialect;
  readonly db: Kysely<Database>;
  readonly box: SecretBox;
  readonly newId: IdGenerator;
}

/** Rows per multi-row statement: ~25 columns x 400 rows stays far under SQLite's 32766 and PostgreSQL's 65535 parameters. */
export const ROWS_PER_STATEMENT = 400;
/** Values per `IN (...)` list. */
export const VALUES_PER_LIST = 5000;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export function isoNow(now?: Date): string {
  return (now ?? new Date()).toISOString();
}

/** SQLite (better-sqlite3) and PostgreSQL (pg) report a unique violation differently. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * Worth running the transaction again: it rolled back whole because another writer linked the same key meanwhile (a
 * unique violation), the database was briefly locked (SQLite busy), or PostgreSQL gave up on a serialization failure
 * or deadlock.
 */
export function isTransientStoreError(err: unknown): boolean {
  if (isUniqueViolation(err)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === '40001' || code === '40P01';
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** JSON with object keys sorted at every depth, so equal data always gives equal text (and hash). */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (!isPlainObject(v)) return v;
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = v[k];
      return sorted;
    }) ?? 'null'
  );
}

export function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}
