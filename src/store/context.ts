import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError } from '../errors.ts';
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

/** PostgreSQL SQLSTATEs of a connection that is gone or refused: class 08, and 57P01-57P03 (admin/crash shutdown, cannot connect now). */
const PG_CONNECTION_STATES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03']);
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** What pg throws, without a code, when its socket closes or it gives up connecting. */
const PG_LOST_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
];

/** The database connection is gone, or could not be made: nothing the query did, worth trying again later. */
export function isConnectionLoss(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isConnectionLoss);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (PG_CONNECTION_STATES.has(code) || SOCKET_ERRORS.has(code))) return true;
  const message = err instanceof Error ? err.message : '';
  return PG_LOST_MESSAGES.some((m) => message.startsWith(m));
}

/**
 * Worth running the transaction again: it rolled back whole because another writer linked the same key meanwhile (a
 * unique violation), the database was locked (SQLite busy) or its connection lost (database_unavailable), or
 * PostgreSQL gave up on a serialization failure or deadlock.
 */
export function isTransientStoreError(err: unknown): boolean {
  if (isUniqueViolation(err) || isConnectionLoss(err)) return true;
  // The store's own answer to both of the below (sqlite-busy.ts, pg-connection-loss.ts): busy for too long, or gone.
  if (err instanceof AppError && err.code === 'database_unavailable') return true;
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) || code === '40001' || code === '40P01';
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
