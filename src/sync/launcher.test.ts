import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NormalizedCertificate } from '../domain/certificate.ts';
import { createEventBus, type EventBus, type HubEvent } from '../events.ts';
import { createSourceConnector } from '../providers/connector.ts';
import { createStore, type Source, type Store } from '../store/index.ts';
import { sampleCertificate } from '../store/sample-certificate.testkit.ts';
import { createSyncLauncher, type BackgroundSyncLauncher } from './launcher.ts';
import type { SyncReport } from './report.ts';
import { createFakeHttp, createListProvider, type ListProviderOptions } from './sync.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';

const certs = (from: number, to: number): NormalizedCertificate[] =>
  Array.from({ length: to - from + 1 }, (_, i) => sampleCertificate(from + i));

interface Setup {
  store: Store;
  events: EventBus;
  source: Source;
  otherTenantId: string;
  seen: HubEvent[];
  reports: SyncReport[];
  launcher: BackgroundSyncLauncher;
}

let store: Store;
let launcher: BackgroundSyncLauncher | undefined;
beforeEach(async () => {
  store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
  await store.migrate();
});
afterEach(async () => {
  await launcher?.stop();
  launcher = undefined;
  await store.close();
});

async function setup(providerOpts: Omit<ListProviderOptions, 'pageSize'> & { pageSize?: number }): Promise<Setup> {
  const tenant = await store.tenants.createTenant({ slug: 'acme', name: 'Acme' });
  const other = await store.tenants.createTenant({ slug: 'globex', name: 'Globex' });
  const source = await store.sources.upsertSourceFromConfig(tenant.id, {
    slug: 'fake-main',
    provider: 'frontcore',
    settings: {},
    credentials: { api_key: 'launcher-secret-key' },
  });
  const provider = createListProvider({ pageSize: 10, ...providerOpts });
  const syncDeps = {
    findProvider: () => provider,
    createHttp: () => createFakeHttp().client,
  };
  const events = createEventBus();
  const seen: HubEvent[] = [];
  events.subscribe(tenant.id, (e) => seen.push(e));
  const reports: SyncReport[] = [];
  launcher = createSyncLauncher({
    store,
    connector: createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS, ...syncDeps }),
    events,
    metrics: { observeSyncRun: (r) => reports.push(r) },
  });
  return { store, events, source, otherTenantId: other.id, seen, reports, launcher };
}

function gate() {
  let open = () => undefined as void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('sync launcher', () => {
  it('answers once the run is recorded, then runs in the background publishing its progress to the tenant', async () => {
    const g = gate();
    const s = await setup({ items: () => certs(1, 25), gate: g.promise });
    let otherTenantEvents = 0;
    s.events.subscribe(s.otherTenantId, () => (otherTenantEvents += 1));

    const { run, done } = await s.launcher.launch(s.source.id);
    expect(run).toMatchObject({ source_id: s.source.id, status: 'running' });
    expect(await store.sync.getRun(run.id)).toMatchObject({ status: 'running' });
    expect(s.launcher.runningSources()).toEqual([s.source.id]);
    expect(s.seen).toEqual([{ type: 'sync.started', source_id: s.source.id, source: 'fake-main', run_id: run.id }]);

    g.open();
    const report = await done;
    expect(report).toMatchObject({ run_id: run.id, status: 'succeeded', certificates: { created: 25 } });
    expect(await store.sync.getRun(run.id)).toMatchObject({ status: 'succeeded' });
    expect(s.seen.map((e) => e.type)).toEqual([
      'sync.started',
      'sync.progress',
      'certificates.changed',
      'sync.progress',
      'certificates.changed',
      'sync.progress',
      'certificates.changed',
      'sync.finished',
    ]);
    expect(s.seen.filter((e) => e.type === 'certificates.changed').map((e) => (e.type === 'certificates.changed' ? e.created : -1))).toEqual([10, 10, 5]);
    expect(s.seen[5]).toMatchObject({ type: 'sync.progress', run_id: run.id, done: 25, total: 25, created: 25 });
    expect(s.seen.at(-1)).toEqual({ type: 'sync.finished', source_id: s.source.id, source: 'fake-main', run_id: run.id, status: 'succeeded', error: null });
    expect(s.reports).toEqual([report]);
    expect(otherTenantEvents).toBe(0);
    expect(s.launcher.runningSources()).toEqual([]);

    // Nothing new: no certificates.changed.
    s.seen.length = 0;
    await (await s.launcher.launch(s.source.id, { full: true })).done;
    expect(s.seen.map((e) => e.type)).toEqual(['sync.started', 'sync.progress', 'sync.progress', 'sync.progress', 'sync.finished']);
  });

  it('refuses a second start of a syncing source with a conflict, and an unknown source with not_found', async () => {
    const g = gate();
    const s = await setup({ items: () => certs(1, 3), gate: g.promise });
    const first = await s.launcher.launch(s.source.id);
    await expect(s.launcher.start(s.source.id)).rejects.toMatchObject({
      code: 'conflict',
      message: `source fake-main is already syncing (run ${first.run.id})`,
    });
    await expect(s.launcher.start('nope')).rejects.toMatchObject({ code: 'not_found' });
    g.open();
    await first.done;
    expect((await store.sync.listRuns({ sourceId: s.source.id })).map((r) => r.status)).toEqual(['succeeded']);
    expect(s.reports).toHaveLength(1);
  });

  it('publishes what a sweep deleted', async () => {
    let items = certs(1, 4);
    const s = await setup({ items: () => items, completeness: 'full-scan' });
    await (await s.launcher.launch(s.source.id)).done;
    items = certs(1, 2);
    s.seen.length = 0;
    const report = await (await s.launcher.launch(s.source.id)).done;
    expect(report.certificates.deleted).toBe(2);
    expect(s.seen.filter((e) => e.type === 'certificates.changed')).toEqual([
      { type: 'certificates.changed', source_id: s.source.id, source: 'fake-main', created: 0, updated: 0, deleted: 2 },
    ]);
  });

  it('reports a failed run as finished with its error, never a secret', async () => {
    const s = await setup({
      items: () => certs(1, 25),
      failOnPage: { page: 2, error: () => new Error('provider said no to launcher-secret-key') },
    });
    const report = await (await s.launcher.launch(s.source.id)).done;
    expect(report.status).toBe('failed');
    const finished = s.seen.at(-1);
    expect(finished).toMatchObject({ type: 'sync.finished', status: 'failed', error: 'provider said no to ***' });
    expect(JSON.stringify(s.seen)).not.toContain('launcher-secret-key');
  });

  it('stop() aborts the runs in flight, waits until they recorded themselves, and refuses new ones', async () => {
    const s = await setup({ items: () => certs(1, 50), delayMs: 200 });
    const { run, done } = await s.launcher.launch(s.source.id);
    await s.launcher.stop();
    expect(await store.sync.getRun(run.id)).toMatchObject({ status: 'failed', error: 'sync aborted (shutting down)' });
    expect(await store.locks.get(s.source.id)).toBeNull();
    expect((await done).error?.code).toBe('cancelled');
    expect(s.seen.at(-1)).toMatchObject({ type: 'sync.finished', status: 'failed' });
    await expect(s.launcher.start(s.source.id)).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('aborts one run when the signal it was launched with aborts', async () => {
    const s = await setup({ items: () => certs(1, 50), delayMs: 200 });
    const controller = new AbortController();
    const { done } = await s.launcher.launch(s.source.id, { signal: controller.signal });
    controller.abort(new Error('scheduler stopped'));
    expect((await done).status).toBe('failed');
    expect(s.launcher.runningSources()).toEqual([]);
  });
});
