/**
 * The run report's request numbers come from the real ProviderHttpClient (built the way `certhub sync` builds it),
 * against a small local server that throttles once and fails once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { z } from 'zod';
import type { Config, SourceConfig } from '../config/index.ts';
import type { NormalizedCertificate } from '../domain/certificate.ts';
import type { Provider } from '../providers/provider.ts';
import { describeEachDialect } from '../store/dialects.testkit.ts';
import { applyConfiguredSources } from '../config/apply.ts';
import { fakeCertificate, setupSource, syncConfigured } from './sync.testkit.ts';

const TOTAL = 25;
const PAGE = 10;
let server: Server;
let baseUrl: string;
let seen: string[];

beforeEach(async () => {
  seen = [];
  const failures = new Map([
    ['10', 429],
    ['20', 503],
  ]);
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${url.pathname}?${url.searchParams.toString()}`);
    const offset = url.searchParams.get('offset') ?? '0';
    const fail = failures.get(offset);
    if (fail !== undefined) {
      failures.delete(offset);
      res.writeHead(fail, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"error":"slow down"}');
      return;
    }
    const start = Number(offset);
    const ids = Array.from({ length: Math.max(0, Math.min(PAGE, TOTAL - start)) }, (_, i) => start + i + 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ids, total: TOTAL }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const configSchema = z.looseObject({ base_url: z.string(), api_key: z.string() });

/** A provider that pages a JSON list over HTTP with the client it is given. */
const httpListProvider: Provider<z.output<typeof configSchema>> = {
  id: 'frontcore',
  title: 'A JSON list over HTTP',
  settings: {},
  configSchema,
  secrets: [['api_key']],
  form: [],
  completeness: 'incremental',
  rateLimit: { requests: 1000, perSeconds: 1 },
  async *pull(ctx, checkpoint) {
    let offset = typeof checkpoint?.offset === 'number' ? checkpoint.offset : 0;
    for (;;) {
      const { data } = await ctx.http.request<{ ids: number[]; total: number }>({
        method: 'GET',
        url: `${ctx.config.base_url}/items`,
        endpoint: 'GET /items',
        query: { offset, api_key: ctx.config.api_key },
        signal: ctx.signal,
      });
      if (data.ids.length === 0) return;
      offset += data.ids.length;
      const certificates: NormalizedCertificate[] = data.ids.map((id) => fakeCertificate(id));
      yield { certificates, checkpoint: { offset }, progress: { done: offset, total: data.total } };
    }
  },
};

describeEachDialect('sync report over real HTTP', (h) => {
  it('counts requests by endpoint, 429s and retries of this run only', async () => {
    const store = await h.open();
    await setupSource(store, { id: 'fc-http', provider: 'frontcore', api_key: 'sekrit-api-key' });
    const source = {
      id: 'fc-http',
      tenant: 'default',
      enabled: true,
      provider: 'frontcore',
      base_url: baseUrl,
      api_key: 'sekrit-api-key',
      timezone: 'Europe/Oslo',
      sync_every_ms: 60_000,
      rate_limit: { requests: 100, per_seconds: 1 },
    } as SourceConfig;
    await applyConfiguredSources(store, { sources: [source] } as Config);
    const deps = { findProvider: () => httpListProvider as Provider<unknown> };

    const report = await syncConfigured(store, source, { ...deps });
    expect(report).toMatchObject({
      status: 'succeeded',
      pages: 3,
      certificates: { created: 25, updated: 0, unchanged: 0, deleted: 0 },
      // 4 pages asked for (the last one empty), plus the throttled and the failed attempt.
      requests_by_endpoint: { 'GET /items': 6 },
      throttled_429: 1,
      retries: 2,
      error: null,
    });
    expect(seen).toHaveLength(6);

    // A second run starts its own count (new client per run; numbers are per run either way).
    const again = await syncConfigured(store, source, { ...deps, full: true });
    expect(again).toMatchObject({ status: 'succeeded', requests_by_endpoint: { 'GET /items': 4 }, throttled_429: 0, retries: 0 });
    expect(JSON.stringify([report, again])).not.toContain('sekrit-api-key');
  });

  it('reports a provider that keeps failing as failed, with the credential redacted', async () => {
    const store = await h.open();
    await setupSource(store, { id: 'fc-down', provider: 'frontcore', api_key: 'sekrit-api-key' });
    const source = {
      id: 'fc-down',
      tenant: 'default',
      enabled: true,
      provider: 'frontcore',
      base_url: 'http://127.0.0.1:1',
      api_key: 'sekrit-api-key',
      timezone: 'Europe/Oslo',
      sync_every_ms: 60_000,
    } as SourceConfig;
    await applyConfiguredSources(store, { sources: [source] } as Config);
    const deps = { findProvider: () => httpListProvider as Provider<unknown> };
    const report = await syncConfigured(store, source, { ...deps });
    expect(report.status).toBe('failed');
    expect(report.error?.code).toMatch(/^provider_/);
    expect(JSON.stringify(report)).not.toContain('sekrit-api-key');
    expect(report.requests_by_endpoint['GET /items']).toBeGreaterThanOrEqual(1);
  });
});
