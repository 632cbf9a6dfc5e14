/**
 * PostgreSQL going away (a restart, an admin terminating backends, the network) is not a bug of the request that met
 * it: every error of that kind leaves the store as AppError('database_unavailable'), which the API answers 503 with
 * Retry-After and the sync engine retries (isTransientStoreError). Other errors pass through unchanged.
 */
import type { CompiledQuery, DatabaseConnection, Driver, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';
import { AppError } from '../errors.ts';
import { isConnectionLoss } from './context.ts';

function mapped(err: unknown): unknown {
  return isConnectionLoss(err) ? new AppError('database_unavailable', 'the database connection was lost; try again shortly', { cause: err }) : err;
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw mapped(err);
  }
}

/** Wraps a driver so that connection loss, wherever it surfaces, is database_unavailable. */
export class ConnectionLossMappingDriver implements Driver {
  readonly #inner: Driver;
  readonly #wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();
  readonly #inners = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  #innerOf(connection: DatabaseConnection): DatabaseConnection {
    return this.#inners.get(connection) ?? connection;
  }

  init(): Promise<void> {
    return guard(() => this.#inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await guard(() => this.#inner.acquireConnection());
    let outer = this.#wrapped.get(inner);
    if (outer === undefined) {
      outer = {
        executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => guard(() => inner.executeQuery<R>(query)),
        streamQuery: <R>(query: CompiledQuery, chunkSize: number) => inner.streamQuery<R>(query, chunkSize),
      };
      this.#wrapped.set(inner, outer);
      this.#inners.set(outer, inner);
    }
    return outer;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return guard(() => this.#inner.beginTransaction(this.#innerOf(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return guard(() => this.#inner.commitTransaction(this.#innerOf(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return guard(() => this.#inner.rollbackTransaction(this.#innerOf(connection)));
  }

  savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return guard(() => this.#inner.savepoint!(this.#innerOf(connection), name, compile));
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return guard(() => this.#inner.rollbackToSavepoint!(this.#innerOf(connection), name, compile));
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return guard(() => this.#inner.releaseSavepoint!(this.#innerOf(connection), name, compile));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
