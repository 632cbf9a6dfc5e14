/**
 * Crash safety, the hard way: a child process syncs a slow fake provider and is SIGKILLed at random moments while it
 * makes progress; the next child takes over the dead one's lock once it expires and resumes. In the end every
 * certificate is there exactly once, linked to its person, with no duplicate people or versions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { Store } from '../store/index.ts';
import { describeEachDialect } from '../store/dialects.testkit.ts';
import type { SyncReport } from './report.ts';
import { databaseOf } from '../store/database.testkit.ts';

const CHILD = fileURLToPath(new URL('./crash-child.testkit.ts', import.meta.url));
const CERTIFICATES = 400;
const PEOPLE = 150;
const TRIALS = 6;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startChild(env: Record<string, string>): { child: ChildProcess; exited: Promise<Exit> } {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited };
}

const countRows = async (store: Store, table: 'certificates' | 'certificate_versions' | 'people' | 'person_identities') =>
  Number((await databaseOf(store).selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEachDialect('sync crash safety', (h) => {
  for (const completeness of ['incremental', 'full-scan'] as const) {
    it(`converges after SIGKILLs at random moments (${completeness})`, { timeout: 180_000 }, async () => {
      const store = await h.open();
      const tenant = (await store.tenants.getTenantBySlug('default'))!;
      await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'crash-src', provider: 'frontcore', settings: {}, credentials: null });
      const where = h.location();
      const env: Record<string, string> = {
        CRASH_DB_URL: where.url,
        ...(where.pgSchema === undefined ? {} : { CRASH_PG_SCHEMA: where.pgSchema }),
        CRASH_SECRET_KEY: h.key.toString('base64'),
        CRASH_CERTIFICATES: String(CERTIFICATES),
        CRASH_PEOPLE: String(PEOPLE),
        CRASH_PAGE_SIZE: '10',
        CRASH_DELAY_MS: '15',
        CRASH_LOCK_TTL_MS: '400',
        CRASH_COMPLETENESS: completeness,
      };

      let killedMidRun = 0;
      for (let trial = 0; trial < TRIALS; trial++) {
        const before = await countRows(store, 'certificate_versions');
        const { child, exited } = startChild(env);
        let done = false;
        void exited.then(() => (done = true));
        // Kill once this child has saved something, after a random extra moment (mid-page, mid-transaction, ...).
        while (!done && (await countRows(store, 'certificate_versions')) === before) await sleep(10);
        if (!done) {
          await sleep(Math.floor(Math.random() * 150));
          if (!done) {
            child.kill('SIGKILL');
            killedMidRun += 1;
          }
        }
        const exit = await exited;
        if (exit.signal === null) expect(exit.code, exit.stderr).toBe(0);
      }
      expect(killedMidRun).toBeGreaterThan(0);

      const final = await startChild(env).exited;
      expect(final.code, final.stderr).toBe(0);
      const report = JSON.parse(final.stdout.trim().split('\n').at(-1) ?? '{}') as SyncReport;
      expect(report.status).toBe('succeeded');

      const certificates = await databaseOf(store).selectFrom('certificates').select(['external_id', 'person_id', 'status']).execute();
      expect(certificates).toHaveLength(CERTIFICATES);
      expect(new Set(certificates.map((c) => c.external_id)).size).toBe(CERTIFICATES);
      expect(certificates.filter((c) => c.person_id === null)).toEqual([]);
      expect(certificates.filter((c) => c.status !== 'awarded')).toEqual([]);
      // Nothing changed at the provider, so every certificate has exactly its first version.
      expect(await countRows(store, 'certificate_versions')).toBe(CERTIFICATES);
      expect(await countRows(store, 'people')).toBe(PEOPLE);
      // Email, provider user and name + date of birth per person, once each.
      expect(await countRows(store, 'person_identities')).toBe(PEOPLE * 3);
      expect(new Set(certificates.map((c) => c.person_id)).size).toBe(PEOPLE);
      // Runs killed mid-way were marked failed by the runs that took their lock over; none is left `running`.
      const running = await databaseOf(store).selectFrom('sync_runs').select('id').where('status', '=', 'running').execute();
      expect(running).toEqual([]);
      expect(await store.locks.get((await store.sources.getSourceBySlug(tenant.id, 'crash-src'))!.id)).toBeNull();
    });
  }
});
