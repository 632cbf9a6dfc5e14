/**
 * Test support: runs one store suite on every dialect (the Kysely way: one suite, every backend).
 * Each test gets a fresh database: a temp-dir SQLite file, or a fresh `certhub_test_<random>` PostgreSQL schema
 * (URL from CERTHUB_TEST_PG_URL) dropped afterwards. Unreachable PostgreSQL fails the run when CI=true and is
 * skipped visibly otherwise.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { describePostgresUrl } from './connect.ts';
import { createStore, type Store } from './index.ts';
import type { Database } from './schema.ts';
import { databaseOf } from './database.testkit.ts';

// Tests are the one place besides config.ts that read the environment: these are test-runner settings.
const PG_URL = process.env.CERTHUB_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const IN_CI = process.env.CI === 'true';

async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || String((err as NodeJS.ErrnoException).code) : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const pgProblem = await probePostgres(PG_URL);

async function withAdminClient(fn: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

export interface StoreHarness {
  readonly dialect: 'sqlite' | 'postgres';
  /** The secret key of this test's database. */
  readonly key: Buffer;
  /** A store on this test's database (closed after the test); migrated unless `migrate: false`. */
  open(opts?: { secretKey?: Buffer; migrate?: boolean }): Promise<Store>;
  /** Every row of a table, as the database holds it. */
  rows(store: Store, table: keyof Database): Promise<Record<string, unknown>[]>;
  /** Where this test's database is, for a child process to open it too (createStore options). */
  location(): { url: string; pgSchema?: string };
}

interface Location {
  url: string;
  pgSchema?: string;
  cleanup(): Promise<void>;
}

async function freshLocation(dialect: 'sqlite' | 'postgres'): Promise<Location> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'certhub-store-'));
    return {
      url: `sqlite:${join(dir, 'data', 'certhub.db')}`,
      cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    };
  }
  const schema = `certhub_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient((c) => c.query(`create schema ${schema}`));
  return {
    url: PG_URL,
    pgSchema: schema,
    cleanup: () => withAdminClient((c) => c.query(`drop schema if exists ${schema} cascade`)),
  };
}

function defineHarness(dialect: 'sqlite' | 'postgres'): StoreHarness {
  let location: Location | undefined;
  let opened: Store[] = [];
  let key = randomBytes(32);

  beforeEach(async () => {
    key = randomBytes(32);
    location = await freshLocation(dialect);
  });
  afterEach(async () => {
    await Promise.all(opened.map((s) => s.close()));
    opened = [];
    await location?.cleanup();
    location = undefined;
  });

  return {
    dialect,
    get key() {
      return key;
    },
    async open(opts) {
      if (location === undefined) throw new Error('open() is for use inside a test');
      const store = await createStore({
        url: location.url,
        secretKey: opts?.secretKey ?? key,
        ...(location.pgSchema === undefined ? {} : { pgSchema: location.pgSchema }),
      });
      opened.push(store);
      if (opts?.migrate !== false) await store.migrate();
      return store;
    },
    async rows(store, table) {
      return databaseOf(store).selectFrom(table).selectAll().execute();
    },
    location() {
      if (location === undefined) throw new Error('location() is for use inside a test');
      return location.pgSchema === undefined ? { url: location.url } : { url: location.url, pgSchema: location.pgSchema };
    },
  };
}

/** Defines `store [sqlite]` and `store [postgres]` describe blocks around the same suite. */
export function describeEachDialect(title: string, suite: (h: StoreHarness) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const name = `store [${dialect}] ${title}`;
    const unreachable = dialect === 'postgres' && pgProblem !== null;
    if (unreachable && IN_CI) {
      describe(name, () => {
        it('needs PostgreSQL', () => {
          throw new Error(`PostgreSQL unreachable at ${describePostgresUrl(PG_URL)} and CI=true: ${pgProblem}`);
        });
      });
      continue;
    }
    if (unreachable) {
      console.warn(
        `${name}: SKIPPED, PostgreSQL unreachable at ${describePostgresUrl(PG_URL)} (${pgProblem}); set CERTHUB_TEST_PG_URL`,
      );
    }
    describe.skipIf(unreachable)(name, () => suite(defineHarness(dialect)));
  }
}

export { sampleCertificate } from './sample-certificate.testkit.ts';
