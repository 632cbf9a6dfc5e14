/**
 * The process survives its database: a PostgreSQL backend terminated while the store holds its connection (in the
 * middle of a transaction) fails that transaction with an error, and the store goes on with a new connection.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { expect, it } from 'vitest';
import { describeEachDialect } from './dialects.testkit.ts';
import { databaseOf } from './database.testkit.ts';
import { isTransientStoreError } from './index.ts';

describeEachDialect('a lost database connection', (h) => {
  it.runIf(h.dialect === 'postgres')('finding 4: a backend terminated mid-transaction fails that transaction, not the process; the next query reconnects', async () => {
    const store = await h.open();
    const admin = new pg.Client({ connectionString: h.location().url });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      const lost = databaseOf(store).transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
        // The server has closed this connection: the client emits 'error' while it is checked out.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql`select 1`.execute(trx);
      });
      // As the store reports it: database_unavailable (503 with Retry-After in the API), transient for the engine.
      const err: unknown = await lost.then(() => null, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'database_unavailable', message: 'the database connection was lost; try again shortly' });
      expect(isTransientStoreError(err)).toBe(true);
      const { rows } = await sql<{ ok: number }>`select 1 as ok`.execute(databaseOf(store));
      expect(rows).toEqual([{ ok: 1 }]);
      expect(await store.tenants.getTenantBySlug('default')).toMatchObject({ slug: 'default' });
    } finally {
      await admin.end();
    }
  });
});
