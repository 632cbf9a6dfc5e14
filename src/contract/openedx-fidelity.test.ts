/**
 * Open edX as openedx/credentials behaves (src/simulators/openedx/README.md names the upstream file of each rule), through
 * the real connector, HTTP client, engine and store over real sockets: 20-row pages whatever page_size says, a list
 * with no order that changes under the scan, course-discovery on its own host or not at all, the 15/minute throttle,
 * a 403, and both releases' item shapes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceConfig } from '../config/index.ts';
import { createSourceConnector } from '../providers/connector.ts';
import { ALLOW_PRIVATE_EGRESS, createProviderHttpClient, type ProviderHttpClient } from '../providers/http/index.ts';
import { LIST_CREDENTIALS } from '../providers/openedx/client.ts';
import { generateWorld } from '../simulators/common/world.ts';
import { createOpenedxSimulator, type OpenedxSimulator, type OpenedxSimulatorOptions } from '../simulators/openedx/index.ts';
import { databaseOf } from '../store/database.testkit.ts';
import type { Store } from '../store/index.ts';
import { runSourceSync } from '../sync/engine.ts';
import type { SyncReport } from '../sync/report.ts';
import { createTestClock, type TestClock } from '../test-clock.testkit.ts';
import { expectStoreEqualsTruth, openStore, parseSource, simJson, storedCertificates, type RunningProvider } from './harness.testkit.ts';
import { sentBeforeRetryAfter, startRecordingProxy, type RecordingProxy } from './recording-proxy.testkit.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface Fixture {
  sim: OpenedxSimulator;
  simUrl: string;
  source: SourceConfig;
  store: Store;
  running: RunningProvider;
  clock: TestClock;
  /** One sync through the real connector; `afterListPage(n)` runs (awaited) after the n-th list page arrived. */
  sync(opts?: { afterListPage?: (n: number) => Promise<void> }): Promise<SyncReport>;
}

interface FixtureOptions {
  people: number;
  sim?: Partial<Omit<OpenedxSimulatorOptions, 'world' | 'clock'>>;
  /** Start course-discovery on its own host (default true). */
  discovery?: boolean;
  /** Source keys to set or override (e.g. catalog_url, rate_limit), given the Credentials host's own URL. */
  source?: (simUrl: string) => Record<string, unknown>;
  /** Put a recording proxy in front of the Credentials host. */
  proxy?: boolean;
}

async function start(opts: FixtureOptions): Promise<Fixture & { proxy: RecordingProxy | null }> {
  const clock = createTestClock();
  const world = generateWorld({ seed: 'openedx-fidelity', people: opts.people, asOf: clock.asOf });
  const sim = createOpenedxSimulator({ world, clock: clock.now, throttle: false, ...opts.sim });
  const simUrl = await sim.sim.listen(0, '127.0.0.1');
  cleanups.push(() => sim.sim.close());
  if (opts.discovery !== false) {
    await sim.discovery.listen(0, '127.0.0.1');
    cleanups.push(() => sim.discovery.close());
  }
  const proxy = opts.proxy === true ? await startRecordingProxy(simUrl, clock.now) : null;
  if (proxy !== null) cleanups.push(() => proxy.close());
  const entry = sim.sourceConfigs()[0] ?? {};
  const front = proxy?.url ?? simUrl;
  const oauth = entry.oauth as Record<string, unknown>;
  const source = parseSource({
    ...entry,
    base_url: front,
    oauth: { ...oauth, token_url: `${front}/oauth2/access_token` },
    rate_limit: { requests: 100, per_seconds: 1 }, // the ceiling certhub.yaml allows (MAX_REQUESTS_PER_SECOND)
    ...opts.source?.(simUrl),
  });
  const opened = await openStore([source]);
  cleanups.push(() => opened.close());
  const { store } = opened;
  let hook: ((n: number) => Promise<void>) | undefined;
  let listPages = 0;
  // The real client, with a look at each list page as it arrives (to change the list under the scan).
  const connector = createSourceConnector({
    store,
    createHttp: (src) => {
      const inner: ProviderHttpClient = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, secrets: [String((src.oauth as Record<string, unknown>).client_secret)] });
      const request = async (req: Parameters<ProviderHttpClient['request']>[0]) => {
        const res = await inner.request(req);
        if (req.endpoint === LIST_CREDENTIALS && hook !== undefined) await hook((listPages += 1));
        return res;
      };
      return { ...inner, request: request as ProviderHttpClient['request'] };
    },
  });
  const running: RunningProvider = { source, simUrl, truth: () => sim.truth(), mutate: () => Promise.resolve(), close: () => Promise.resolve() };
  return {
    sim,
    simUrl,
    source,
    store,
    running,
    clock,
    proxy,
    async sync(o = {}) {
      hook = o.afterListPage;
      listPages = 0;
      const tenant = await store.tenants.getTenantBySlug(source.tenant);
      const stored = tenant && (await store.sources.getSourceBySlug(tenant.id, source.id));
      if (!stored) throw new Error('source not stored');
      const session = await connector.open(stored);
      try {
        return await runSourceSync({ store, session, now: clock.now });
      } finally {
        await session.close();
        hook = undefined;
      }
    },
  };
}

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body) });

/** Live stored certificates of the source (not deleted), by external id. */
async function liveStored(f: Fixture): Promise<Set<string>> {
  return new Set((await storedCertificates(f.store, f.source.id)).filter((c) => c.status !== 'deleted').map((c) => c.external_id));
}

describe('Open edX fidelity (openedx/credentials behaviour)', () => {
  it('pages are the server\'s 20 rows: no page_size is sent, one list request per 20 credentials', async () => {
    const f = await start({ people: 120, proxy: true });
    const report = await f.sync();
    expect(report.status).toBe('succeeded');
    await expectStoreEqualsTruth(f.store, f.running, expect);
    const n = f.sim.truth().length;
    const lists = f.proxy!.log.filter((e) => e.path.startsWith('/api/v2/credentials/'));
    expect(lists).toHaveLength(Math.ceil(n / 20));
    expect(lists.filter((e) => e.path.includes('page_size'))).toEqual([]);
    expect(report.requests_by_endpoint[LIST_CREDENTIALS]).toBe(Math.ceil(n / 20));
    // Teak: no download_url, so no file, and the run says so.
    expect(report.warnings).toEqual([expect.objectContaining({ code: 'no_file', count: n })]);
  });

  // Mid-scan changes of the unordered list, at 20 rows a page: [after list page, credentials deleted from the rows
  // already read, credentials deleted from rows not yet read, credentials created].
  const changes: [number, number, number, number][] = [
    [1, 1, 0, 0],
    [2, 3, 0, 2],
    [3, 0, 0, 5],
    [2, 2, 2, 2],
    [4, 25, 0, 0],
    [2, 1, 1, 3],
    // As many created as deleted: `count` does not move, so only the lookups at the end can save what slid back.
    [2, 1, 0, 1],
    [3, 4, 0, 4],
  ];
  it.each(changes)('after list page %i: %i deleted behind the scan, %i ahead of it, %i created; no live credential is swept, and the next scan equals the truth', async (after, behind, ahead, created) => {
    const f = await start({ people: 120 });
    expect((await f.sync()).status).toBe('succeeded');
    const order = (await storedCertificates(f.store, f.source.id)).map((c) => c.external_id);
    const catalog = await simJson<{ programs: { uuid: string }[] }>(f.simUrl, '/catalog');
    // The list's order as the service serves it: walk it once (the order is stable while nothing changes).
    const listed: string[] = [];
    let readUpTo = 0;
    const report = await f.sync({
      afterListPage: async (n) => {
        readUpTo = n * 20;
        if (n !== after) return;
        const walk = await listOrder(f);
        listed.push(...walk);
        const toDelete = [...walk.slice(0, readUpTo).slice(0, behind), ...walk.slice(readUpTo).slice(0, ahead)];
        for (const id of toDelete) await simJson(f.simUrl, `/credentials/${id}`, { method: 'DELETE' });
        for (let i = 0; i < created; i++) await simJson(f.simUrl, '/credentials', json('POST', { person: { email: `ny.${after}.${i}@eksempel.no` }, program_uuid: catalog.programs[i % catalog.programs.length]?.uuid }));
      },
    });
    expect(report.status, JSON.stringify(report.error)).toBe('succeeded');
    expect(listed.length).toBe(order.length);
    // Every credential the service has now and had before the scan is stored live: none was swept.
    const live = await liveStored(f);
    const before = new Set(order);
    for (const t of f.sim.truth()) if (before.has(t.external_id)) expect(live.has(t.external_id)).toBe(true);
    expect((await f.sync()).status).toBe('succeeded');
    await expectStoreEqualsTruth(f.store, f.running, expect);
  });

  it('course-discovery on its own host names the achievements; an absent one (the Credentials host\'s HTML 404) and none at all leave them untitled with a warning, never a failed sync', async () => {
    const titled = await start({ people: 40 });
    const ok = await titled.sync();
    expect(ok).toMatchObject({ status: 'succeeded' });
    expect(ok.warnings.map((w) => w.code)).toEqual(['no_file']);
    await expectStoreEqualsTruth(titled.store, titled.running, expect);

    const absent = await start({ people: 40, discovery: false });
    expect(absent.source.catalog_url).toBeUndefined();
    // A catalog_url that is no discovery service: the Credentials host, which answers its paths with an HTML 404.
    const wrongHost = await start({ people: 40, discovery: false, source: (simUrl) => ({ catalog_url: simUrl }) });
    for (const [f, code] of [
      [absent, 'untitled_achievements'],
      [wrongHost, 'catalog_unavailable'],
    ] as const) {
      const report = await f.sync();
      expect(report.status, JSON.stringify(report.error)).toBe('succeeded');
      expect(report.warnings.map((w) => w.code)).toContain(code);
      expect(report.warnings.find((w) => w.code === 'untitled_achievements')?.count).toBeGreaterThan(0);
      const stored = await storedCertificates(f.store, f.source.id);
      expect(stored).toHaveLength(f.sim.truth().length);
      expect(stored.every((c) => c.achievement.title === null)).toBe(true);
    }
  });

  it('at the real 15 requests a minute, a pull of 400 credentials completes, and no request is sent before a Retry-After has passed', { timeout: 240_000 }, async () => {
    // A non-staff service user (throttled), and certhub told to go faster than the throttle, so that it meets it.
    const f = await start({ people: 330, sim: { throttle: { requests: 15, per_seconds: 60 } }, proxy: true, source: () => ({ rate_limit: { requests: 2, per_seconds: 1 } }) });
    expect(f.sim.truth().length).toBeGreaterThanOrEqual(390);
    const report = await f.sync();
    expect(report.status, JSON.stringify(report.error)).toBe('succeeded');
    await expectStoreEqualsTruth(f.store, f.running, expect);
    const api = (e: { path: string }) => e.path.startsWith('/api/v2/');
    const log = f.proxy!.log.filter(api);
    expect(log.filter((e) => e.status === 429).length).toBeGreaterThanOrEqual(1);
    expect(log.filter((e) => e.status === 429).every((e) => e.retryAfter !== null)).toBe(true);
    expect(sentBeforeRetryAfter(f.proxy!.log, api)).toEqual([]);
    expect(report.throttled_429).toBe(log.filter((e) => e.status === 429).length);
  });

  it('a service user without credentials.view_usercredential: the run fails with a 403 named as such, asked once, with one token', async () => {
    const f = await start({ people: 20, sim: { clients: [{ permissions: [] }] }, proxy: true });
    const report = await f.sync();
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('credentials.view_usercredential') as string });
    expect(f.proxy!.log.map((e) => `${e.method} ${e.path.split('?')[0]} ${e.status}`)).toEqual(['POST /oauth2/access_token 200', 'GET /api/v2/credentials/ 403']);
    expect(await storedCertificates(f.store, f.source.id)).toEqual([]);
  });

  it('both releases\' item shapes: Sumac with download URLs offers every PDF, Sumac with null ones and Teak offer none', async () => {
    for (const [sim, files] of [
      [{ release: 'sumac', downloadUrls: true }, true],
      [{ release: 'sumac' }, false],
      [{ release: 'teak' }, false],
    ] as const) {
      const f = await start({ people: 30, sim });
      const report = await f.sync();
      expect(report.status).toBe('succeeded');
      await expectStoreEqualsTruth(f.store, f.running, expect);
      const stored = await storedCertificates(f.store, f.source.id);
      expect(stored.every((c) => c.file.available === files)).toBe(true);
      expect(report.warnings.some((w) => w.code === 'no_file')).toBe(!files);
      const row = await databaseOf(f.store).selectFrom('certificates').select('raw_json').where('external_id', '=', stored[0]!.external_id).executeTakeFirstOrThrow();
      const raw = JSON.parse(row.raw_json) as Record<string, unknown>;
      expect('download_url' in raw).toBe(sim.release === 'sumac');
      expect(Object.keys(raw)).toEqual(expect.arrayContaining(['username', 'credential', 'status', 'uuid', 'attributes', 'date_override', 'created', 'modified', 'certificate_url']));
      expect(String(raw.created)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    }
  });
});

/** The list's uuids in the order the service serves them now (walked with the source's own client credentials). */
async function listOrder(f: Fixture): Promise<string[]> {
  const oauth = f.source.oauth as { token_url: string; client_id: string; client_secret: string };
  const tokenRes = await fetch(`${f.simUrl}/oauth2/access_token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: oauth.client_id, client_secret: oauth.client_secret, token_type: 'jwt' }),
  });
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const out: string[] = [];
  let next: string | null = `${f.simUrl}/api/v2/credentials/`;
  while (next !== null) {
    const page = (await (await fetch(next, { headers: { authorization: `JWT ${token}` } })).json()) as { next: string | null; results: { uuid: string }[] };
    out.push(...page.results.map((r) => r.uuid));
    next = page.next;
  }
  return out;
}
