/** Finding 12 of issue 13: GET /metrics wants the metrics token, and its per-source series name tenant and source slugs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceConnector } from '../providers/connector.ts';
import { createSyncLauncher } from '../sync/launcher.ts';
import { createTestHub, type TestHub } from './app.testkit.ts';

const TOKEN = 'metrics-token-for-tests';

describe('finding 12: /metrics', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub({ metricsToken: TOKEN });
  });
  afterAll(() => hub.close());

  it('finding 12: without the metrics token, or with an API key instead, /metrics is a 401 in the error shape', async () => {
    for (const authorization of [undefined, `Bearer ${hub.a.adminKey}`, 'Bearer wrong-token', TOKEN, `Basic ${TOKEN}`]) {
      const res = await hub.app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('metrics token') } });
      expect(res.body).not.toContain('certhub_http_requests_total');
    }
  });

  it('finding 12: with no token configured, /metrics is closed to everyone', async () => {
    const closed = await createTestHub();
    try {
      const res = await closed.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${closed.a.adminKey}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toEqual({ code: 'unauthorized', message: expect.stringContaining('CERTHUB_METRICS_TOKEN') });
    } finally {
      await closed.close();
    }
  });

  it('finding 12: with the token it answers 200, HTTP series by route pattern', async () => {
    await hub.call('GET', '/v1/me', { key: hub.a.readKey });
    const res = await hub.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/certhub_http_requests_total\{method="GET",route="\/v1\/me",status="200"\} \d+/);
  });

  it('finding 12: sync runs of two tenants with the same source slug are two series, by tenant slug, with no ids', async () => {
    const launcher = createSyncLauncher({ store: hub.store, connector: createSourceConnector({ store: hub.store }), events: hub.events, metrics: hub.metrics });
    try {
      // Both sources point at a port nothing listens on: the runs fail, and are counted all the same.
      for (const source of [hub.a.source, hub.b.source]) await (await launcher.launch(source.id)).done;
    } finally {
      await launcher.stop();
    }
    const res = await hub.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    const runs = res.body.split('\n').filter((l) => l.startsWith('certhub_sync_runs_total{'));
    expect(runs.sort()).toEqual([
      'certhub_sync_runs_total{tenant="acme",source="frontcore-main",provider="frontcore",status="failed"} 1',
      'certhub_sync_runs_total{tenant="globex",source="frontcore-main",provider="frontcore",status="failed"} 1',
    ]);
    for (const id of [hub.a.id, hub.b.id, hub.a.source.id, hub.b.source.id]) expect(res.body).not.toContain(id);
  }, 60_000);
});
