import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { AppError } from '../errors.ts';
import type { StoreDialect } from './context.ts';
import { CurrentSchemaPostgresDialect } from './pg-introspector.ts';
import type { Database } from './schema.ts';
import { BusyRetryingSqliteDialect, SQLITE_BUSY_TIMEOUT_MS } from './sqlite-busy.ts';

export type DatabaseTarget =
  | { dialect: 'sqlite'; path: string; display: string }
  | { dialect: 'postgres'; connectionString: string; display: string };

const PG_CONNECT_TIMEOUT_MS = 5000;
const PG_SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/** `sqlite:./data/certhub.db`, `sqlite::memory:`, `postgres://...` or `postgresql://...`. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs/path
    if (path === '') throw new AppError('invalid_config', 'database: sqlite: needs a file path, e.g. sqlite:./data/certhub.db');
    return { dialect: 'sqlite', path, display: `sqlite:${path}` };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { dialect: 'postgres', connectionString: url, display: describePostgresUrl(url) };
  }
  throw new AppError('invalid_config', 'database: must start with sqlite: or postgres://');
}

/** host:port/db, never the user's password. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
    return `${host}:${parsed.port || '5432'}/${decodeURIComponent(parsed.pathname.replace(/^\//, ''))}`;
  } catch {
    return '(unparseable postgres URL)';
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    // Node's happy-eyeballs connect reports one error per address with an empty outer message.
    const inner = (err.errors as unknown[]).map(reasonOf).filter((m) => m !== '');
    if (inner.length > 0) return [...new Set(inner)].join('; ');
  }
  // A store error that wraps the driver's (connection lost, database busy): the driver's says what happened.
  if (err instanceof AppError && err.cause !== undefined) return reasonOf(err.cause);
  if (err instanceof Error) return err.message || String((err as NodeJS.ErrnoException).code ?? err.name);
  return String(err);
}

export function unavailable(target: DatabaseTarget, err: unknown): AppError {
  const message =
    target.dialect === 'sqlite'
      ? `cannot open database ${target.display}: ${reasonOf(err)}`
      : `cannot connect to PostgreSQL at ${target.display}: ${reasonOf(err)}`;
  return new AppError('database_unavailable', message, { cause: err });
}

export interface OpenedDatabase {
  dialect: StoreDialect;
  db: Kysely<Database>;
  /** Throws AppError('database_unavailable') when a write could not get through now (SQLite: another writer holds the lock). */
  probeWrites: () => Promise<void>;
}

/** Opens the connection(s) and proves they work; every failure is AppError('database_unavailable'). */
export async function openDatabase(
  target: DatabaseTarget,
  opts: { pgSchema?: string | undefined },
): Promise<OpenedDatabase> {
  if (target.dialect === 'sqlite') return openSqlite(target);

  if (opts.pgSchema !== undefined && !PG_SCHEMA.test(opts.pgSchema)) {
    throw new AppError('invalid_config', `pgSchema must match ${PG_SCHEMA.source}`);
  }
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: 10,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    ...(opts.pgSchema === undefined ? {} : { options: `-c search_path=${opts.pgSchema}` }),
  });
  // An idle client that loses its connection is dropped by the pool; without a listener it would crash the process.
  pool.on('error', () => undefined);
  // pg-pool takes its listener off a client it hands out: a connection lost while the store holds it (a backend
  // terminated mid-transaction, a restarted server) would be an unhandled 'error' event and end the process. The
  // query or transaction in flight fails with the error instead, and the pool replaces the client.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw unavailable(target, err);
  }
  return { dialect: 'postgres', db, probeWrites: () => Promise.resolve() };
}

function openSqlite(target: Extract<DatabaseTarget, { dialect: 'sqlite' }>): OpenedDatabase {
  const inMemory = target.path === ':memory:';
  let handle: SqliteDatabase.Database | undefined;
  try {
    // A directory certhub creates, and a database file it creates, are readable by their owner only: the file holds
    // encrypted credentials, national id HMACs and archived PDFs. (SQLite gives its -wal and -shm files the same mode.)
    const created = !inMemory && !existsSync(target.path);
    if (!inMemory) mkdirSync(dirname(target.path), { recursive: true, mode: 0o700 });
    handle = new SqliteDatabase(target.path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    if (created) chmodSync(target.path, 0o600);
    // journal_mode also reads the file header, so "file is not a database" surfaces here, not on first use.
    if (!inMemory) handle.pragma('journal_mode = WAL');
    handle.pragma('foreign_keys = ON');
    handle.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    // SQLite's own lower() folds ASCII only ('ÅSE' stays 'ÅSE'); PostgreSQL's folds every letter. Searches compare
    // lower(column) with a pattern lowered in JS, so both dialects get JavaScript's fold.
    handle.function('lower', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? text.toLowerCase() : text));
  } catch (err) {
    handle?.close();
    throw unavailable(target, err);
  }
  const dialect = new BusyRetryingSqliteDialect({ database: handle });
  return { dialect: 'sqlite', db: new Kysely<Database>({ dialect }), probeWrites: () => dialect.probeWrites() };
}
