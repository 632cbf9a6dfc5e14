/**
 * Test support: the Kysely instance behind a store, for tests that set up or inspect rows directly. The product never
 * reaches it: `Store` has no `db`, and every table is the store's (store/index.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { STORE_DATABASE, type Store } from './index.ts';

export function databaseOf(store: Store): Kysely<Database> {
  const db = (store as unknown as Record<symbol, Kysely<Database> | undefined>)[STORE_DATABASE];
  if (db === undefined) throw new Error('not a store made by createStore');
  return db;
}
