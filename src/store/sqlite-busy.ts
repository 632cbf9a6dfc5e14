/**
 * SQLite under contention without freezing the process. better-sqlite3 is synchronous: with a long busy_timeout a
 * statement that meets another process's write lock blocks the event loop for all of it (issue 13, finding 8). Here
 * the busy timeout is short, and a busy statement or `begin` is retried after an asynchronous pause during which the
 * process's other queries (and everything else on the loop) go on. A write still locked out after SQLITE_BUSY_WAIT_MS
 * fails with AppError('database_unavailable'), which the API answers 503 with Retry-After and the engine retries.
 *
 * Kysely serializes a single-connection driver with its own mutex held from acquire to release; this driver keeps
 * that mutex itself so it can let go of it while it waits.
 */
import { performance } from 'node:perf_hooks';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  type SqliteDialectConfig,
} from 'kysely';
import { AppError } from '../errors.ts';

/** How long one statement may block the event loop waiting for a lock (better-sqlite3's busy_timeout). */
export const SQLITE_BUSY_TIMEOUT_MS = 50;
/** How long a write keeps retrying, asynchronously, before it gives up as database_unavailable. */
export const SQLITE_BUSY_WAIT_MS = 2000;
/** How long /readyz waits for the write lock before it says the database is unavailable. */
export const SQLITE_READY_WAIT_MS = 500;

export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function busyUnavailable(err: unknown): AppError {
  return new AppError('database_unavailable', 'the database is busy (another process holds its write lock); try again shortly', {
    cause: err,
  });
}

/** A FIFO lock; unlock hands it straight to the next waiter. */
class Mutex {
  #locked = false;
  readonly #waiters: (() => void)[] = [];

  async lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#locked = false;
    else next();
  }
}

class BusyRetryingSqliteDriver implements Driver {
  readonly #inner: SqliteDriver;
  readonly #mutex = new Mutex();
  #raw: DatabaseConnection | undefined;
  #connection: DatabaseConnection | undefined;
  #inTransaction = false;

  constructor(config: SqliteDialectConfig) {
    this.#inner = new SqliteDriver(config);
  }

  async init(): Promise<void> {
    await this.#inner.init();
    this.#raw = await this.#inner.acquireConnection();
    const raw = this.#raw;
    this.#connection = {
      executeQuery: <R>(query: CompiledQuery) => this.#execute<R>(raw, query),
      streamQuery: <R>(query: CompiledQuery, chunkSize: number) => raw.streamQuery<R>(query, chunkSize),
    };
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection!;
  }

  releaseConnection(): Promise<void> {
    this.#mutex.unlock();
    return Promise.resolve();
  }

  async beginTransaction(): Promise<void> {
    // IMMEDIATE takes the write lock at once, so a transaction never meets it half-way through (where a busy
    // statement could not simply be retried); waiting for it happens here, where nothing has been done yet.
    await this.#whileBusy(() => this.#raw!.executeQuery(CompiledQuery.raw('begin immediate')), SQLITE_BUSY_WAIT_MS);
    this.#inTransaction = true;
  }

  async commitTransaction(): Promise<void> {
    try {
      await this.#raw!.executeQuery(CompiledQuery.raw('commit'));
    } catch (err) {
      // Kysely rolls back next; the whole transaction is the caller's to run again.
      throw isSqliteBusy(err) ? busyUnavailable(err) : err;
    }
    this.#inTransaction = false;
  }

  async rollbackTransaction(): Promise<void> {
    try {
      await this.#raw!.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      this.#inTransaction = false;
    }
  }

  savepoint(_c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.#inner.savepoint(this.#raw!, name, compile);
  }

  rollbackToSavepoint(_c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.#inner.rollbackToSavepoint(this.#raw!, name, compile);
  }

  releaseSavepoint(_c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.#inner.releaseSavepoint(this.#raw!, name, compile);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }

  /** Whether a write could get the lock within `maxWaitMs` (for /readyz); takes it and gives it back at once. */
  async probeWrites(maxWaitMs: number): Promise<void> {
    const raw = this.#raw;
    if (raw === undefined) return;
    await this.#mutex.lock();
    try {
      await this.#whileBusy(() => raw.executeQuery(CompiledQuery.raw('begin immediate')), maxWaitMs);
      await raw.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      this.#mutex.unlock();
    }
  }

  async #execute<R>(raw: DatabaseConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.#inTransaction) return this.#whileBusy(() => raw.executeQuery<R>(query), SQLITE_BUSY_WAIT_MS);
    try {
      return await raw.executeQuery<R>(query);
    } catch (err) {
      throw isSqliteBusy(err) ? busyUnavailable(err) : err;
    }
  }

  /** Runs `attempt` (which must hold the mutex, and be safe to repeat after SQLITE_BUSY) until it is not busy. */
  async #whileBusy<T>(attempt: () => Promise<T>, maxWaitMs: number): Promise<T> {
    const started = performance.now();
    let pause = 5;
    for (;;) {
      try {
        return await attempt();
      } catch (err) {
        if (!isSqliteBusy(err)) throw err;
        if (performance.now() - started + pause > maxWaitMs) throw busyUnavailable(err);
        // Let the process's other queries have the connection meanwhile; take it back before trying again.
        this.#mutex.unlock();
        try {
          await new Promise((resolve) => setTimeout(resolve, pause + Math.floor(Math.random() * pause)));
        } finally {
          await this.#mutex.lock();
        }
        pause = Math.min(pause * 2, 200);
      }
    }
  }
}

/** Kysely's SQLite dialect on BusyRetryingSqliteDriver. */
export class BusyRetryingSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  #driver: BusyRetryingSqliteDriver | undefined;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    this.#driver = new BusyRetryingSqliteDriver(this.#config);
    return this.#driver;
  }

  override createAdapter(): DialectAdapter {
    // The driver keeps its own mutex (released while it waits), so Kysely must not hold one around it.
    return Object.create(new SqliteAdapter(), { supportsMultipleConnections: { value: true } }) as DialectAdapter;
  }

  /** Throws AppError('database_unavailable') when a write cannot get the lock within `maxWaitMs`. */
  async probeWrites(maxWaitMs: number = SQLITE_READY_WAIT_MS): Promise<void> {
    if (this.#driver === undefined) return;
    await this.#driver.probeWrites(maxWaitMs);
  }
}
