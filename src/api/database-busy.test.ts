/**
 * Issue 13, finding 8: SQLite contention froze the process. Another process holding the write lock made a write wait
 * busy_timeout (5 s) synchronously on the event loop, answer 500, and stall /healthz, while /readyz said 200. Now the
 * wait is asynchronous and bounded: the write answers 503 database_unavailable with Retry-After, the probes answer
 * meanwhile, and /readyz says the database is unavailable.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { createStore } from '../store/index.ts';
import { databaseOf } from '../store/database.testkit.ts';
import { createTestHub, type TestHub } from './app.testkit.ts';

const CHILD = fileURLToPath(new URL('../store/write-lock-child.testkit.ts', import.meta.url));

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A second process holding the file's write lock; `released` resolves once it has let go. */
async function holdWriteLock(file: string): Promise<{ child: ChildProcessWithoutNullStreams; release(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const lines = createInterface({ input: child.stdout });
  const said = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const onLine = (line: string) => {
        if (line.trim() !== word) return;
        lines.off('line', onLine);
        resolve();
      };
      lines.on('line', onLine);
      child.once('close', (code) => reject(new Error(`lock holder exited (${code}) before saying ${word}: ${stderr}`)));
    });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  cleanup.push(async () => {
    if (child.exitCode === null) child.kill();
    await exited;
  });
  await said('held');
  return {
    child,
    async release() {
      const released = said('released');
      child.stdin.write('release\n');
      await released;
      await exited;
    },
  };
}

async function fileHub(): Promise<{ hub: TestHub; file: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'certhub-busy-'));
  const file = join(dir, 'certhub.db');
  const store = await createStore({ url: `sqlite:${file}`, secretKey: randomBytes(32) });
  const hub = await createTestHub({ store });
  cleanup.push(async () => {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { hub, file, dir };
}

it('finding 8: while another process holds the SQLite write lock, a write answers 503 database_unavailable with Retry-After, /healthz answers meanwhile, /readyz says unavailable; after release writes succeed and nothing was half-written', { timeout: 60_000 }, async () => {
  const { hub, file, dir } = await fileHub();
  const keysBefore = (await hub.call('GET', '/v1/keys', { key: hub.a.adminKey })).json().items.length as number;
  const holder = await holdWriteLock(file);

  const events: string[] = [];
  const write = hub.call('POST', '/v1/keys', { key: hub.a.adminKey, body: { name: 'made while locked', role: 'read' } }).then((res) => {
    events.push('write answered');
    return res;
  });
  // Asked after the write started waiting for the lock: it answers first, since the wait leaves the event loop free.
  const health = hub.call('GET', '/healthz').then((res) => {
    events.push('healthz answered');
    return res;
  });
  const ready = hub.call('GET', '/readyz').then((res) => {
    events.push('readyz answered');
    return res;
  });
  const [writeRes, healthRes, readyRes] = await Promise.all([write, health, ready]);
  events.push('lock released');
  await holder.release();

  expect(healthRes.statusCode).toBe(200);
  expect(events.indexOf('healthz answered')).toBeLessThan(events.indexOf('write answered'));
  expect(events.indexOf('write answered')).toBeLessThan(events.indexOf('lock released'));

  expect(writeRes.statusCode).toBe(503);
  expect(writeRes.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  expect(writeRes.json()).toEqual({
    error: { code: 'database_unavailable', message: 'the database is busy (another process holds its write lock); try again shortly' },
  });

  expect(readyRes.statusCode).toBe(503);
  expect(readyRes.json().error.code).toBe('database_unavailable');
  expect(readyRes.headers['retry-after']).toBeDefined();
  // What is unavailable, not where: no path, no driver text.
  expect(readyRes.body).not.toContain(dir);
  expect(readyRes.body).not.toMatch(/SQLITE_|locked/);

  // Released: the same write succeeds, the refused one left nothing, and the other process's row never appeared.
  expect((await hub.call('GET', '/readyz')).statusCode).toBe(200);
  const retried = await hub.call('POST', '/v1/keys', { key: hub.a.adminKey, body: { name: 'made after release', role: 'read' } });
  expect(retried.statusCode).toBe(201);
  const names = ((await hub.call('GET', '/v1/keys', { key: hub.a.adminKey })).json().items as { name: string }[]).map((k) => k.name);
  expect(names).toHaveLength(keysBefore + 1);
  expect(names).toContain('made after release');
  expect(names).not.toContain('made while locked');
  const meta = await databaseOf(hub.store).selectFrom('meta').select('key').execute();
  expect(meta.map((m) => m.key)).not.toContain('held-by-another-process');
});
