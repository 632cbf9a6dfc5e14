import { expect, it } from 'vitest';
import type { SourceConfig } from '../config/index.ts';
import { describeEachDialect } from '../store/dialects.testkit.ts';
import { syncConfiguredSource, type SyncDeps } from './configured.ts';
import { createFakeHttp } from './sync.testkit.ts';

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
