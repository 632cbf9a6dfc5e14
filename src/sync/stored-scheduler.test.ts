import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { createStore, type Store, type SyncRun } from '../store/index.ts';
import type { LaunchedRun } from './launcher.ts';
import type { SyncReport } from './report.ts';
import { startStoredScheduler, type StoredSyncScheduler } from './stored-scheduler.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let store: Store;
let scheduler: StoredSyncScheduler | undefined;
beforeEach(async () => {
  store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
  await store.migrate();
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await store.close();
});

/** A launcher that records a run in the store and "finishes" it after `runMs`. */
function fakeLauncher(runMs = 20, refuse?: (sourceId: string) => AppError | null) {
  const launched: string[] = [];
  return {
    launched,
    async launch(sourceId: string): Promise<LaunchedRun> {
      const refusal = refuse?.(sourceId) ?? null;
      if (refusal !== null) throw refusal;
      launched.push(sourceId);
      const run: SyncRun = await store.sync.startRun(sourceId);
      const done = sleep(runMs).then(async () => {
        await store.sync.finishRun(run.id, { status: 'succeeded' });
        return { run_id: run.id } as SyncReport;
      });
      return { run, done };
    },
  };
}

async function source(tenant: string, slug: string, opts: { everyMs?: number; provider?: 'frontcore' | 'falkor'; enabled?: boolean } = {}) {
  const t = (await store.tenants.getTenantBySlug(tenant)) ?? (await store.tenants.createTenant({ slug: tenant, name: tenant }));
  const s = await store.sources.upsertSourceFromConfig(t.id, {
    slug,
    provider: opts.provider ?? 'frontcore',
    settings: opts.everyMs === undefined ? {} : { sync_every_ms: opts.everyMs },
    credentials: null,
  });
  if (opts.enabled === false) await store.sources.setSourceEnabled(s.tenant_id, s.id, false);
  return s;
}

const count = (list: string[], id: string) => list.filter((x) => x === id).length;

describe('store-driven scheduler', () => {
  it('syncs every enabled source of every tenant on its own interval; skips disabled ones and providers without a connector', async () => {
    const fast = await source('acme', 'fast', { everyMs: 150 });
    const slow = await source('globex', 'slow', { everyMs: 60_000 });
    const off = await source('acme', 'off', { everyMs: 150, enabled: false });
    const noConnector = await source('acme', 'falkor', { everyMs: 150, provider: 'falkor' });
    const launcher = fakeLauncher();
    scheduler = startStoredScheduler({ store, launcher, hasConnector: (p) => p === 'frontcore', random: () => 0.5 });
    await sleep(500);
    expect(count(launcher.launched, fast.id)).toBeGreaterThanOrEqual(3);
    expect(count(launcher.launched, slow.id)).toBe(1);
    expect(count(launcher.launched, off.id)).toBe(0);
    expect(count(launcher.launched, noConnector.id)).toBe(0);
    // The next run of the slow source is a minute after its first: counted from when the scheduler started it, which
    // is a moment before the store stamped the run (two clocks, so the same scheduled run, not the same millisecond).
    const [last] = await store.sync.listRuns({ sourceId: slow.id, limit: 1 });
    const next = scheduler.nextSyncAt(slow.id)?.getTime() ?? Number.NaN;
    expect(next).toBeLessThanOrEqual(Date.parse(last!.started_at) + 60_000);
    expect(next).toBeGreaterThan(Date.parse(last!.started_at) + 30_000);
    expect(scheduler.nextSyncAt(off.id)).toBeNull();
  });

  it('picks up a new source on refresh, stops one that is disabled, and restarts one whose interval changed', async () => {
    const launcher = fakeLauncher();
    scheduler = startStoredScheduler({ store, launcher, hasConnector: () => true, random: () => 0.5 });
    await scheduler.refresh();
    const added = await source('acme', 'added', { everyMs: 60_000 });
    await sleep(100);
    expect(launcher.launched).toEqual([]); // not until the scheduler re-reads the sources
    await scheduler.refresh();
    await sleep(100);
    expect(launcher.launched).toEqual([added.id]);
    const firstNext = scheduler.nextSyncAt(added.id);
    expect(firstNext).not.toBeNull();

    // A shorter interval: rescheduled from the last run, so the next run comes at once (it is overdue).
    await store.sources.upsertSourceFromConfig(added.tenant_id, { slug: 'added', provider: 'frontcore', settings: { sync_every_ms: 100 }, credentials: null });
    await scheduler.refresh();
    await sleep(350);
    const afterChange = count(launcher.launched, added.id);
    expect(afterChange).toBeGreaterThanOrEqual(3);

    await store.sources.setSourceEnabled(added.tenant_id, added.id, false);
    await scheduler.refresh();
    await sleep(50);
    const atDisable = count(launcher.launched, added.id);
    await sleep(300);
    expect(count(launcher.launched, added.id)).toBe(atDisable);
    expect(scheduler.nextSyncAt(added.id)).toBeNull();
  });

  it('treats a source already syncing (started through the API) as skipped, and keeps its schedule', async () => {
    const s = await source('acme', 'busy', { everyMs: 100 });
    let refusals = 0;
    const launcher = fakeLauncher(10, () => (refusals++ < 2 ? new AppError('conflict', 'source busy is already syncing (run x)') : null));
    const logged: string[] = [];
    const logger = { info: (_o: object, m: string) => logged.push(m), warn: () => undefined, error: (_o: object, m: string) => logged.push(`ERROR ${m}`) };
    scheduler = startStoredScheduler({ store, launcher, hasConnector: () => true, logger, random: () => 0.5 });
    await sleep(400);
    expect(logged.filter((m) => m.startsWith('sync busy skipped'))).toHaveLength(2);
    expect(logged.filter((m) => m.startsWith('ERROR'))).toEqual([]);
    expect(count(launcher.launched, s.id)).toBeGreaterThanOrEqual(1);
  });
});
