import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { createEventBus } from '../../events.ts';
import { createSourceConnector } from '../../providers/connector.ts';
import { createStore, type Source } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { createSyncLauncher, type BackgroundSyncLauncher } from '../../sync/launcher.ts';
import { createFakeHttp, createListProvider, type ListProviderOptions } from '../../sync/sync.testkit.ts';
import type { ApiDeps } from '../deps.ts';
import { createTestHub, type TestHub } from '../app.testkit.ts';
import { databaseOf } from '../../store/database.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../../providers/http/egress.ts';

const certs = (from: number, to: number): NormalizedCertificate[] =>
  Array.from({ length: to - from + 1 }, (_, i) => sampleCertificate(from + i));

const SECRET = 'fc-secret-api-key-0123456789';

interface Hub extends TestHub {
  launcher: BackgroundSyncLauncher;
  /** A source only tenant b has. */
  bOnly: Source;
  /** Every response body seen, to search for secrets. */
  bodies: string[];
}

let hub: Hub | undefined;
afterEach(async () => {
  await hub?.launcher.stop();
  await hub?.close();
  hub = undefined;
});

/** A hub whose providers are in-memory lists (sync/testkit.ts), with a real launcher and connector over them. */
async function createHub(provider: Omit<ListProviderOptions, 'pageSize'> = { items: () => certs(1, 5) }, overrides: Partial<ApiDeps> = {}): Promise<Hub> {
  const store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
  await store.migrate();
  const list = createListProvider({ pageSize: 10, ...provider });
  const syncDeps = { findProvider: () => list, createHttp: () => createFakeHttp().client };
  const events = createEventBus();
  const connector = createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS, ...syncDeps });
  const launcher = createSyncLauncher({ store, connector, events });
  const test = await createTestHub({ store, events, connector, sync: launcher, ...overrides });
  const bOnly = await store.sources.upsertSourceFromConfig(test.b.id, {
    slug: 'globex-only',
    provider: 'frontcore',
    settings: { base_url: 'http://127.0.0.1:9', timezone: 'Europe/Oslo', sync_every_ms: 3_600_000 },
    credentials: { api_key: 'globex-secret-key-987654' },
  });
  const bodies: string[] = [];
  const inject = test.call.bind(test);
  const call: TestHub['call'] = async (method, url, opts) => {
    const res = await inject(method, url, opts);
    bodies.push(res.body);
    return res;
  };
  return Object.assign(test, { call, launcher, bOnly, bodies });
}

const newSource = (extra: Record<string, unknown> = {}) => ({
  id: 'fc-new',
  provider: 'frontcore',
  base_url: 'https://api.frontcore.example',
  api_key: SECRET,
  sync_every: '15m',
  ...extra,
});

async function waitForRun(h: Hub, runId: string) {
  for (let i = 0; i < 200; i++) {
    const run = await h.store.sync.getRun(runId);
    if (run !== null && run.status !== 'running') return run;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`run ${runId} did not finish`);
}

function expectNoSecrets(h: Hub) {
  const all = h.bodies.join('\n');
  expect(all).not.toContain(SECRET);
  expect(all).not.toContain('globex-secret-key');
  expect(all).not.toMatch(/secret-(acme|globex)-[0-9a-f]{12}/); // the test hub's own api keys
}

describe('sources API', () => {
  it("finding 20: an API key of tenant A asking for tenant B's source (by its id or its store id) gets 404 and changes nothing", async () => {
    const h = (hub = await createHub());
    for (const id of [h.bOnly.slug, h.bOnly.id]) {
      const asks = [
        h.call('GET', `/v1/sources/${id}`, { key: h.a.adminKey }),
        h.call('PATCH', `/v1/sources/${id}`, { key: h.a.adminKey, body: { timezone: 'Europe/Stockholm' } }),
        h.call('POST', `/v1/sources/${id}/test`, { key: h.a.adminKey }),
        h.call('POST', `/v1/sources/${id}/sync`, { key: h.a.adminKey }),
        h.call('DELETE', `/v1/sources/${id}`, { key: h.a.adminKey }),
      ];
      for (const res of await Promise.all(asks)) expect(res.statusCode).toBe(404);
    }
    expect(await h.store.sources.getSource(h.b.id, h.bOnly.id)).toMatchObject({ slug: 'globex-only', settings: h.bOnly.settings });
    expect(await h.store.sources.getSourceCredentials(h.b.id, h.bOnly.id)).toEqual({ api_key: 'globex-secret-key-987654' });
    expect(await h.store.sync.listRuns({ sourceId: h.bOnly.id })).toEqual([]);
    expectNoSecrets(h);
  });

  it('creates a source validated like certhub.yaml; credentials are stored encrypted and never answered', async () => {
    const h = (hub = await createHub());
    const res = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource({ rate_limit: { requests: 4, per_seconds: 1 } }) });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: 'fc-new',
      provider: 'frontcore',
      enabled: true,
      has_credentials: true,
      syncing: false,
      certificates: 0,
      last_run: null,
      settings: { base_url: 'https://api.frontcore.example', timezone: 'Europe/Oslo', sync_every_ms: 900_000, rate_limit: { requests: 4, per_seconds: 1 } },
    });
    const stored = (await h.store.sources.getSourceBySlug(h.a.id, 'fc-new'))!;
    expect(await h.store.sources.getSourceCredentials(stored.tenant_id, stored.id)).toEqual({ api_key: SECRET });
    const row = await databaseOf(h.store).selectFrom('sources').select('credentials_ciphertext').where('id', '=', stored.id).executeTakeFirstOrThrow();
    expect(row.credentials_ciphertext).not.toContain(SECRET);

    const list = await h.call('GET', '/v1/sources', { key: h.a.readKey });
    expect(list.json().items.map((s: { id: string }) => s.id)).toEqual(['fc-new', 'frontcore-main']);
    expect((await h.call('GET', '/v1/sources/fc-new', { key: h.a.readKey })).json().id).toBe('fc-new');

    // A disabled one stays disabled.
    const off = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource({ id: 'fc-off', enabled: false }) });
    expect(off.json().enabled).toBe(false);
    expectNoSecrets(h);
  });

  it('refuses a bad body naming the field, a tenant in the body, a duplicate id (409) and a read key (403)', async () => {
    const h = (hub = await createHub());
    const bad = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource({ base_url: 'ftp://x' }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toEqual({ code: 'invalid_request', message: 'body.base_url: must be an http(s) URL' });
    const slug = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource({ id: 'Bad Id' }) });
    expect(slug.json().error.message).toMatch(/^body\.id: /);
    const unknown = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource({ token: 'x' }) });
    expect(unknown.statusCode).toBe(400);
    const missing = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: { id: 'x', provider: 'falkor', base_url: 'https://f.example' } });
    expect(missing.json().error.message).toMatch(/body\.token: /);
    const tenant = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource({ tenant: 'globex' }) });
    expect(tenant.statusCode).toBe(400);
    expect(tenant.json().error.message).toMatch(/^body\.tenant: /);
    expect(await h.store.sources.getSourceBySlug(h.b.id, 'fc-new')).toBeNull();

    const dup = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource({ id: 'frontcore-main' }) });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('conflict');
    // The existing source's credentials are untouched by the refused duplicate.
    expect(await h.store.sources.getSourceCredentials(h.a.source.tenant_id, h.a.source.id)).not.toEqual({ api_key: SECRET });

    // The same id in another tenant is fine: ids are per tenant.
    expect((await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource({ id: 'globex-only' }) })).statusCode).toBe(201);
    expectNoSecrets(h);
  });

  it('patches settings keeping the stored credentials, replaces credentials, disables; the provider cannot change', async () => {
    const h = (hub = await createHub());
    await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: newSource() });
    const patched = await h.call('PATCH', '/v1/sources/fc-new', { key: h.a.adminKey, body: { timezone: 'Europe/Stockholm', sync_every: '30m' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().settings).toMatchObject({ timezone: 'Europe/Stockholm', sync_every_ms: 1_800_000, base_url: 'https://api.frontcore.example' });
    const id = (await h.store.sources.getSourceBySlug(h.a.id, 'fc-new'))!.id;
    expect(await h.store.sources.getSourceCredentials(h.a.id, id)).toEqual({ api_key: SECRET });

    const rotated = `${SECRET}-rotated`;
    expect((await h.call('PATCH', '/v1/sources/fc-new', { key: h.a.adminKey, body: { api_key: rotated } })).statusCode).toBe(200);
    expect(await h.store.sources.getSourceCredentials(h.a.id, id)).toEqual({ api_key: rotated });
    expect(JSON.stringify(h.bodies)).not.toContain('rotated');

    const disabled = await h.call('PATCH', '/v1/sources/fc-new', { key: h.a.adminKey, body: { enabled: false } });
    expect(disabled.json()).toMatchObject({ enabled: false, settings: { timezone: 'Europe/Stockholm', sync_every_ms: 1_800_000 } });
    expect((await h.call('PATCH', '/v1/sources/fc-new', { key: h.a.adminKey, body: { enabled: true } })).json().enabled).toBe(true);

    const provider = await h.call('PATCH', '/v1/sources/fc-new', { key: h.a.adminKey, body: { provider: 'falkor' } });
    expect(provider.statusCode).toBe(400);
    expect(provider.json().error.message).toMatch(/^body\.provider: cannot change/);
    const bad = await h.call('PATCH', '/v1/sources/fc-new', { key: h.a.adminKey, body: { base_url: 'nope' } });
    expect(bad.json().error.message).toBe('body.base_url: must be an http(s) URL');
    const rename = await h.call('PATCH', '/v1/sources/fc-new', { key: h.a.adminKey, body: { id: 'other' } });
    expect(rename.statusCode).toBe(400);
    expectNoSecrets(h);
  });

  it('deletes a source: 409 while it has certificates, with ?purge=true everything of it', async () => {
    const h = (hub = await createHub());
    await h.seed(h.a.source, certs(1, 3));
    const refused = await h.call('DELETE', '/v1/sources/frontcore-main', { key: h.a.adminKey });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toMatch(/3 certificate\(s\)/);
    expect((await h.call('GET', '/v1/sources/frontcore-main', { key: h.a.readKey })).json().certificates).toBe(3);

    const purged = await h.call('DELETE', '/v1/sources/frontcore-main?purge=true', { key: h.a.adminKey });
    expect(purged.statusCode).toBe(200);
    expect(purged.json()).toEqual({ id: 'frontcore-main', deleted: true, certificates_deleted: 3 });
    expect((await h.call('GET', '/v1/sources/frontcore-main', { key: h.a.readKey })).statusCode).toBe(404);
    expect(await databaseOf(h.store).selectFrom('certificates').select('id').where('source_id', '=', h.a.source.id).execute()).toEqual([]);
    // Tenant b's source of the same id is untouched.
    expect(await h.store.sources.getSource(h.b.source.tenant_id, h.b.source.id)).not.toBeNull();
  });

  it('starts a sync in the background (202), shows it in the runs and on the source; 409 while it runs', async () => {
    let open = () => undefined as void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const h = (hub = await createHub({ items: () => certs(1, 25), gate }));
    const res = await h.call('POST', '/v1/sources/frontcore-main/sync', { key: h.a.adminKey });
    expect(res.statusCode).toBe(202);
    const started = res.json<{ run_id: string; status: string; source: string }>();
    expect(started).toMatchObject({ status: 'running', source: 'frontcore-main' });

    const again = await h.call('POST', '/v1/sources/frontcore-main/sync', { key: h.a.adminKey, body: { full: true } });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toBe(`source frontcore-main is already syncing (run ${started.run_id})`);
    const during = (await h.call('GET', '/v1/sources/frontcore-main', { key: h.a.readKey })).json();
    expect(during).toMatchObject({ syncing: true, last_run: { id: started.run_id, status: 'running', certificates: null } });

    open();
    await waitForRun(h, started.run_id);
    const run = await h.call('GET', `/v1/sync-runs/${started.run_id}`, { key: h.a.readKey });
    expect(run.json()).toMatchObject({
      id: started.run_id,
      source: 'frontcore-main',
      provider: 'frontcore',
      status: 'succeeded',
      pages: 3,
      certificates: { created: 25, updated: 0, unchanged: 0, deleted: 0 },
      requests_by_endpoint: { 'GET /certificates': 3 },
      throttled_429: 0,
      retries: 0,
      error: null,
    });
    const after = (await h.call('GET', '/v1/sources', { key: h.a.readKey })).json().items[0];
    expect(after).toMatchObject({ id: 'frontcore-main', syncing: false, certificates: 25, last_run: { status: 'succeeded', certificates: { created: 25 } } });

    const bad = await h.call('POST', '/v1/sources/frontcore-main/sync', { key: h.a.adminKey, body: { full: 'yes' } });
    expect(bad.json().error.message).toMatch(/^body\.full: /);
    expectNoSecrets(h);
  });

  it('answers a run\'s warnings on the run, in the list and on its source; a report stored before warnings reads []', async () => {
    const untitled = { code: 'untitled_achievements', message: 'achievements left untitled: the catalog did not answer' };
    const h = (hub = await createHub({
      items: () => certs(1, 15),
      warnings: (page) => (page === 1 ? [{ ...untitled, count: 3 }] : [{ ...untitled, count: 9 }, { code: 'no_file', message: 'certificates without a downloadable file' }]),
    }));
    const started = (await h.call('POST', '/v1/sources/frontcore-main/sync', { key: h.a.adminKey })).json<{ run_id: string }>();
    await waitForRun(h, started.run_id);
    const warnings = [
      { ...untitled, count: 12 },
      { code: 'no_file', message: 'certificates without a downloadable file', count: 1 },
    ];
    const run = (await h.call('GET', `/v1/sync-runs/${started.run_id}`, { key: h.a.readKey })).json();
    expect(run).toMatchObject({ status: 'succeeded', pages: 2, warnings, error: null });
    expect((await h.call('GET', '/v1/sync-runs', { key: h.a.readKey })).json().items).toEqual([expect.objectContaining({ id: started.run_id, warnings })]);
    expect((await h.call('GET', '/v1/sources/frontcore-main', { key: h.a.readKey })).json().last_run).toMatchObject({ id: started.run_id, warnings });

    // A report written before runs had warnings (no field), and a run still going (no report): [] both.
    const old = await h.store.sync.startRun(h.a.source.id);
    const { warnings: _none, ...oldReport } = run as Record<string, unknown>;
    await h.store.sync.finishRun(old.id, { status: 'succeeded', report: { ...oldReport, run_id: old.id } });
    expect((await h.call('GET', `/v1/sync-runs/${old.id}`, { key: h.a.readKey })).json()).toMatchObject({ id: old.id, status: 'succeeded', warnings: [] });
    const running = await h.store.sync.startRun(h.a.source.id);
    const listed = (await h.call('GET', '/v1/sync-runs', { key: h.a.readKey })).json().items as { id: string; warnings: unknown }[];
    expect(Object.fromEntries(listed.map((r) => [r.id, r.warnings]))).toEqual({ [running.id]: [], [old.id]: [], [started.run_id]: warnings });
  });

  it('answers 502 provider_unavailable for sync and test when this server has no launcher or connector', async () => {
    const h = (hub = await createHub(undefined, { sync: undefined, connector: undefined }));
    const sync = await h.call('POST', '/v1/sources/frontcore-main/sync', { key: h.a.adminKey });
    expect(sync.statusCode).toBe(502);
    expect(sync.json().error.code).toBe('provider_unavailable');
    const test = await h.call('POST', '/v1/sources/frontcore-main/test', { key: h.a.adminKey });
    expect(test.statusCode).toBe(502);
  });

  it('lists runs newest first with filters and a cursor', async () => {
    const h = (hub = await createHub({ items: () => certs(1, 3) }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { run_id } = (await h.call('POST', '/v1/sources/frontcore-main/sync', { key: h.a.adminKey })).json<{ run_id: string }>();
      await waitForRun(h, run_id);
      ids.push(run_id);
    }
    const b = await h.launcher.launch(h.bOnly.id);
    await b.done;
    const first = (await h.call('GET', '/v1/sync-runs?limit=2', { key: h.a.readKey })).json();
    expect(first.items.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const second = (await h.call('GET', `/v1/sync-runs?limit=2&cursor=${first.next_cursor}`, { key: h.a.readKey })).json();
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0], status: 'succeeded' })], next_cursor: null });
    expect((await h.call('GET', '/v1/sync-runs?status=failed', { key: h.a.readKey })).json().items).toEqual([]);
    expect((await h.call('GET', '/v1/sync-runs?source=frontcore-main', { key: h.a.readKey })).json().items).toHaveLength(3);
    expect((await h.call('GET', '/v1/sync-runs?source=globex-only', { key: h.a.readKey })).json().items).toEqual([]);
    expect((await h.call('GET', '/v1/sync-runs?status=done', { key: h.a.readKey })).statusCode).toBe(400);
  });

  it('tests the connection by reading one page and saving nothing; a failure says why without a secret', async () => {
    const h = (hub = await createHub({ items: () => certs(1, 25) }));
    const ok = await h.call('POST', '/v1/sources/frontcore-main/test', { key: h.a.adminKey });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, latency_ms: expect.any(Number), certificates: 10 });
    expect(await databaseOf(h.store).selectFrom('certificates').select('id').execute()).toEqual([]);
    expect(await h.store.sync.getCheckpoint(h.a.source.id)).toBeNull();
    expect(await h.store.sync.listRuns()).toEqual([]);
    await hub.launcher.stop();
    await hub.close();

    const failing = (hub = await createHub({
      items: () => certs(1, 5),
      failOnPage: { page: 1, times: 99, error: () => new Error(`401 Wrong API Key ${SECRET}`) },
    }));
    const created = await failing.call('POST', '/v1/sources', { key: failing.a.adminKey, body: newSource() });
    expect(created.statusCode).toBe(201);
    const res = await failing.call('POST', '/v1/sources/fc-new/test', { key: failing.a.adminKey });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: false, error: { code: 'internal', message: '401 Wrong API Key ***' } });
    expectNoSecrets(failing);
  });
});

describe('sources API: access', () => {
  it('keeps read keys from every admin route (403) and changes nothing', async () => {
    const h = (hub = await createHub());
    const admin: [string, string, unknown?][] = [
      ['POST', '/v1/sources', newSource()],
      ['PATCH', '/v1/sources/frontcore-main', { timezone: 'UTC' }],
      ['DELETE', '/v1/sources/frontcore-main?purge=true'],
      ['POST', '/v1/sources/frontcore-main/test'],
      ['POST', '/v1/sources/frontcore-main/sync'],
    ];
    for (const [method, url, body] of admin) {
      const res = await h.call(method as 'POST', url, { key: h.a.readKey, ...(body === undefined ? {} : { body }) });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    expect(await h.store.sources.listSources(h.a.id)).toEqual([h.a.source]);
    expect(await h.store.sync.listRuns()).toEqual([]);
  });

  it("answers tenant b's source and run ids with 404 on every route, and leaves b's rows as they were", async () => {
    const h = (hub = await createHub());
    const bRun = await h.launcher.launch(h.bOnly.id);
    await bRun.done;
    await h.seed(h.bOnly, certs(1, 2));
    const before = {
      sources: await h.store.sources.listSources(h.b.id),
      credentials: await h.store.sources.getSourceCredentials(h.bOnly.tenant_id, h.bOnly.id),
      runs: await h.store.sync.listRuns({ sourceId: h.bOnly.id }),
    };
    const routes: [string, string, string, unknown?][] = [
      [h.a.readKey, 'GET', '/v1/sources/globex-only'],
      [h.a.adminKey, 'PATCH', '/v1/sources/globex-only', { timezone: 'UTC' }],
      [h.a.adminKey, 'DELETE', '/v1/sources/globex-only?purge=true'],
      [h.a.adminKey, 'POST', '/v1/sources/globex-only/test'],
      [h.a.adminKey, 'POST', '/v1/sources/globex-only/sync'],
      [h.a.readKey, 'GET', `/v1/sync-runs/${bRun.run.id}`],
    ];
    for (const [key, method, url, body] of routes) {
      const res = await h.call(method as 'POST', url, { key, ...(body === undefined ? {} : { body }) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    const list = await h.call('GET', '/v1/sources', { key: h.a.readKey });
    expect(list.body).not.toContain('globex-only');
    expect((await h.call('GET', '/v1/sync-runs', { key: h.a.readKey })).json().items).toEqual([]);
    expect({
      sources: await h.store.sources.listSources(h.b.id),
      credentials: await h.store.sources.getSourceCredentials(h.bOnly.tenant_id, h.bOnly.id),
      runs: await h.store.sync.listRuns({ sourceId: h.bOnly.id }),
    }).toEqual(before);
    expectNoSecrets(h);
  });
});
