import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import { AppError } from '../errors.ts';
import type { StoreContext } from './context.ts';
import * as m0001 from './migrations/0001_initial.ts';
import * as m0002 from './migrations/0002_sync_identity.ts';
import * as m0003 from './migrations/0003_hub_api.ts';
import * as m0004 from './migrations/0004_expiring_index.ts';
import * as m0005 from './migrations/0005_lock_fence.ts';
import * as m0006 from './migrations/0006_bound_ciphertexts.ts';
import * as m0007 from './migrations/0007_outbox.ts';
import * as m0008 from './migrations/0008_pushes.ts';
import type { SecretBox } from '../secrets.ts';
import { KEY_CHECK_PLACE } from './secret-places.ts';

/**
 * Every migration, imported explicitly (no directory scan: works the same under tsx, vitest and a bundle).
 * Forward-only: add the next numbered module here; never edit one that has shipped.
 */
const MIGRATIONS: Record<string, { up(db: Kysely<unknown>, box: SecretBox): Promise<void> }> = {
  '0001_initial': m0001,
  '0002_sync_identity': m0002,
  '0003_hub_api': m0003,
  '0004_expiring_index': m0004,
  '0005_lock_fence': m0005,
  // Re-encrypts v1 ciphertexts with associated data: the one migration that needs the secret key.
  '0006_bound_ciphertexts': m0006,
  '0007_outbox': m0007,
  '0008_pushes': m0008,
};

export const KEY_CHECK = 'secret_key_check';
/** The meta row's plaintext: it decrypts under the right key only (key-rotation.ts re-encrypts it). */
export const KEY_CHECK_PLAIN = 'certhub secret key check v1';

/**
 * Kysely runs SQLite migrations outside a transaction (its adapter claims no transactional DDL); SQLite has it,
 * so wrap each one: a failing migration then leaves nothing half-applied on either dialect.
 */
function atomic(up: (db: Kysely<unknown>) => Promise<void>): Migration {
  return {
    up: (db: Kysely<unknown>) => (db.isTransaction ? up(db) : db.transaction().execute((trx) => up(trx))),
  };
}

function migrationsWith(box: SecretBox): MigrationProvider {
  return {
    getMigrations: () =>
      Promise.resolve(Object.fromEntries(Object.entries(MIGRATIONS).map(([name, m]) => [name, atomic((db) => m.up(db, box))]))),
  };
}

export async function runMigrations(ctx: StoreContext): Promise<{ applied: string[] }> {
  // The key check comes first: a wrong key must not get as far as changing the schema.
  await verifySecretKey(ctx);
  const { error, results } = await new Migrator({
    db: ctx.db,
    provider: migrationsWith(ctx.box),
    // Kysely looks for its own tables in every schema unless told which one; name ours (the search_path's first).
    ...(ctx.dialect === 'postgres' ? { migrationTableSchema: await currentPostgresSchema(ctx) } : {}),
  }).migrateToLatest();
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration ran)';
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    throw new AppError('internal', `database migration ${failed} failed: ${reason}`, { cause: error });
  }
  await ensureKeyCheck(ctx);
  return { applied };
}

async function currentPostgresSchema(ctx: StoreContext): Promise<string> {
  const r = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(ctx.db);
  const schema = r.rows[0]?.schema ?? null;
  if (schema === null) throw new AppError('database_unavailable', 'PostgreSQL has no current schema (check search_path)');
  return schema;
}

async function metaTableExists(ctx: StoreContext): Promise<boolean> {
  if (ctx.dialect === 'sqlite') {
    const r = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'meta'`.execute(
      ctx.db,
    );
    return Number(r.rows[0]?.n ?? 0) > 0;
  }
  // to_regclass follows search_path, so a test schema only sees its own tables.
  const r = await sql<{ t: string | null }>`select to_regclass('meta')::text as t`.execute(ctx.db);
  return (r.rows[0]?.t ?? null) !== null;
}

/** Throws AppError('secret_key_invalid') when the database was set up under another key; no-op on a fresh database. */
export async function verifySecretKey(ctx: StoreContext): Promise<void> {
  if (!(await metaTableExists(ctx))) return;
  const row = await ctx.db.selectFrom('meta').select('value').where('key', '=', KEY_CHECK).executeTakeFirst();
  if (row === undefined) return;
  const wrongKey = (cause?: unknown) =>
    new AppError('secret_key_invalid', 'cannot decrypt stored secrets: CERTHUB_SECRET_KEY is not the key this data was encrypted with', {
      cause,
    });
  let plain: string;
  try {
    // v1 until migration 0006 has run.
    plain = ctx.box.isLegacy(row.value) ? ctx.box.decryptLegacy(row.value) : ctx.box.decrypt(row.value, KEY_CHECK_PLACE);
  } catch (err) {
    throw wrongKey(err);
  }
  if (plain !== KEY_CHECK_PLAIN) throw wrongKey();
}

async function ensureKeyCheck(ctx: StoreContext): Promise<void> {
  // Two processes migrating at once: the first insert wins and the other verifies against it.
  await ctx.db
    .insertInto('meta')
    .values({ key: KEY_CHECK, value: ctx.box.encrypt(KEY_CHECK_PLAIN, KEY_CHECK_PLACE) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  await verifySecretKey(ctx);
}
