import { expect, it } from 'vitest';
import type { Config, SourceConfig } from '../config.ts';
import { describeEachDialect } from '../store/test-dialects.ts';
import { startConfiguredScheduler, syncConfiguredSource, type SyncDeps } from './configured.ts';
import { createFakeHttp, createListProvider, fakeCertificate, setupSource } from './testkit.ts';

const source = (id: string, provider: SourceConfig['provider'], everyMs: number): SourceConfig =>
  ({
    id,
    tenant: 'default',
    enabled: true,
    provider,
    base_url: 'http://127.0.0.1:9',
    api_key: 'k-123456',
    timezone: 'Europe/Oslo',
    sync_every_ms: everyMs,
  }) as SourceConfig;

describeEachDialect('configured sources', (h) => {
  it('schedules the sources that have a connector, logs each run, and stops cleanly', async () => {
    const store = await h.open();
    await setupSource(store, { id: 'fc', provider: 'frontcore' });
    const provider = createListProvider({ items: () => [fakeCertificate(1), fakeCertificate(2)], pageSize: 10 });
    const deps: SyncDeps = {
      findProvider: (id) => (id === 'frontcore' ? provider : null),
      createHttp: () => createFakeHttp().client,
    };
    const logs: { level: string; msg: string }[] = [];
    const logger = {
      info: (_o: object, msg: string) => logs.push({ level: 'info', msg }),
      warn: (_o: object, msg: string) => logs.push({ level: 'warn', msg }),
      error: (_o: object, msg: string) => logs.push({ level: 'error', msg }),
    };
    const config = { sources: [source('fc', 'frontcore', 150), source('sp', 'springest', 150)] } as Config;
    const scheduler = startConfiguredScheduler({ store, config, deps, logger });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await scheduler.stop();

    expect(logs[0]).toEqual({ level: 'warn', msg: 'source sp not scheduled: no connector for springest' });
    const runs = logs.filter((l) => l.msg === 'sync fc succeeded');
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const stored = (await store.sources.getSourceBySlug(tenant.id, 'fc'))!;
    expect(await store.locks.get(stored.id)).toBeNull();
  });

  it('turns a run that cannot start into a failed report', async () => {
    const store = await h.open();
    const deps: SyncDeps = { findProvider: () => null, createHttp: () => createFakeHttp().client };
    const report = await syncConfiguredSource({ store, source: source('fc', 'frontcore', 1000), deps });
    expect(report).toMatchObject({
      run_id: null,
      source: 'fc',
      provider: 'frontcore',
      status: 'failed',
      pages: 0,
      error: { code: 'invalid_config', message: 'no connector for provider frontcore in this build of certhub' },
    });
  });
});
