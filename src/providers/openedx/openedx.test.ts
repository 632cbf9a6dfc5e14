/**
 * The Open edX connector over real sockets against the simulator: full scan == truth, incremental + sweep ==
 * truth after changes, a crash mid-scan resumes, faults and 429 bursts converge, pacing at the documented rate
 * draws no 429, token renewal, and the write / status endpoints.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { providerSourceSchema } from '../../config/schema.ts';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import type { CounterSnapshot } from '../../simulators/common/counters.ts';
import type { TruthCertificate } from '../../simulators/common/truth.ts';
import { generateWorld } from '../../simulators/common/world.ts';
import { PERMISSIONS } from '../../simulators/openedx/access.ts';
import { createOpenedxSimulator, type OpenedxSimulator, type OpenedxSimulatorOptions } from '../../simulators/openedx/index.ts';
import { createTestClock, type TestClock } from '../../test-clock.testkit.ts';
import { ALLOW_PRIVATE_EGRESS, accountKey, createLimiterRegistry, createProviderHttpClient, defaultRate, type ProviderHttpClient } from '../http/index.ts';
import type { Checkpoint, Page, Provider } from '../provider.ts';
import { credentialsPageUrl } from './client.ts';
import {
  bulkLearnerCertStatus,
  createCredential,
  createOpenedxProvider,
  createOpenedxSession,
  getCredential,
  listCredentialsPage,
  learnerCertStatus,
  openedxProvider,
  readOpenedxCheckpoint,
  revokeCredential,
  setCredentialStatus,
  type LearnerCertStatusQuery,
  type OpenedxConfig,
} from './index.ts';

const open: { sim: OpenedxSimulator; http: ProviderHttpClient }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.http.close();
    await o.sim.sim.close();
    await o.sim.discovery.close();
  }
});

interface Setup {
  sim: OpenedxSimulator;
  url: string;
  /** The course-discovery server's origin ('' when it is not started). */
  discoveryUrl: string;
  config: OpenedxConfig;
  http: ProviderHttpClient;
  clock: TestClock;
}

type SetupOptions = { seed: string; people?: number; documentedRate?: boolean; discovery?: boolean } & Partial<Pick<OpenedxSimulatorOptions, 'pageSize' | 'order' | 'release' | 'downloadUrls' | 'clients' | 'learnerStatusWorker'>>;

async function setup(opts: SetupOptions): Promise<Setup> {
  const clock = createTestClock();
  const world = generateWorld({ seed: opts.seed, people: opts.people ?? 150, asOf: clock.asOf });
  const { seed: _s, people: _p, documentedRate, discovery, ...simOptions } = opts;
  const sim = createOpenedxSimulator({ world, clock: clock.now, ...(documentedRate ? {} : { throttle: false }), ...simOptions });
  const url = await sim.sim.listen(0, '127.0.0.1');
  const discoveryUrl = discovery === false ? '' : await sim.discovery.listen(0, '127.0.0.1');
  // As the engine does: the YAML schema resolves the entry, the connector's configSchema reads the result.
  const config = openedxProvider.configSchema.parse(providerSourceSchema(openedxProvider).parse(sim.sourceConfigs()[0]));
  const rate = defaultRate(openedxProvider.rateLimit ?? { requests: 1, perSeconds: 1 });
  const limiter = documentedRate ? createLimiterRegistry().bucket(accountKey('openedx', config.base_url, config.oauth.client_secret), rate) : undefined;
  const http = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 10 }, secrets: [config.oauth.client_secret], ...(limiter ? { limiter } : {}) });
  open.push({ sim, http });
  return { sim, url, discoveryUrl, config, http, clock };
}

/**
 * Emulates the engine for a full-scan provider: saves pages, keeps the checkpoint, answers `unseen` (stored, not seen
 * this scan), sweeps after a completed scan unless a page said `sweep: false`, and sums the warnings.
 */
function createStoreEmulation() {
  const store = new Map<string, NormalizedCertificate>();
  let checkpoint: Checkpoint | null = null;
  let scanSeen: Set<string> | null = null;
  return {
    store,
    get checkpoint() {
      return checkpoint;
    },
    /** One run; `stopAfter` pages simulates a crash right after the engine saved that page. */
    async run(
      s: Setup,
      opts: { provider?: Provider<OpenedxConfig>; stopAfter?: number; signal?: AbortSignal; afterPage?: (n: number) => Promise<void> } = {},
    ): Promise<{ pages: Page[]; completed: boolean; warnings: Record<string, number> }> {
      const provider = opts.provider ?? openedxProvider;
      scanSeen ??= new Set();
      const seen = scanSeen;
      const pages: Page[] = [];
      const warnings: Record<string, number> = {};
      const ctx = {
        sourceId: 'openedx',
        config: s.config,
        http: s.http,
        full: false,
        signal: opts.signal ?? new AbortController().signal,
        now: s.clock.now,
        unseen: (limit = 1000) => Promise.resolve([...store.keys()].filter((id) => !seen.has(id)).slice(0, limit)),
      };
      for await (const page of provider.pull(ctx, checkpoint)) {
        for (const c of page.certificates) {
          store.set(c.external_id, c);
          seen.add(c.external_id);
        }
        for (const w of page.warnings ?? []) warnings[w.code] = (warnings[w.code] ?? 0) + (w.count ?? 1);
        checkpoint = page.checkpoint;
        pages.push(page);
        if (opts.stopAfter !== undefined && pages.length >= opts.stopAfter) return { pages, completed: false, warnings };
        await opts.afterPage?.(pages.length);
      }
      // pull ended without error: the scan (begun by an earlier run if that one crashed) is complete: sweep.
      if (!pages.some((p) => p.sweep === false)) for (const id of store.keys()) if (!seen.has(id)) store.delete(id);
      scanSeen = null;
      return { pages, completed: true, warnings };
    },
  };
}

const withoutPersonKey = (truth: TruthCertificate[]) => truth.map(({ person_key: _p, ...t }) => t);
function expectEqualsTruth(store: Map<string, NormalizedCertificate>, sim: OpenedxSimulator): void {
  const ours = [...store.values()].map(({ raw: _raw, ...c }) => c).sort((a, b) => (a.external_id < b.external_id ? -1 : 1));
  expect(ours).toEqual(withoutPersonKey(sim.truth()));
}

async function sim(url: string, path: string, init: { method: string; body?: unknown } = { method: 'GET' }): Promise<unknown> {
  const res = await fetch(`${url}/__sim${path}`, { method: init.method, headers: { 'content-type': 'application/json' }, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
const counters = (url: string) => sim(url, '/counters') as Promise<CounterSnapshot>;
const resetCounters = (url: string) => sim(url, '/counters/reset', { method: 'POST' });
/** Requests to Open edX itself (the counters count the control routes too). */
const apiRequests = (c: CounterSnapshot): number => Object.entries(c.requests_by_endpoint).reduce((n, [e, k]) => (e.includes(' /__sim') ? n : n + k), 0);

const LIST = 'GET /api/v2/credentials/';
const DETAIL = 'GET /api/v2/credentials/:uuid/';
const TOKEN = 'POST /oauth2/access_token';
/** A service user with every credentials permission and staff status (writes, learner status). */
const WRITER = { staff: true, permissions: [...PERMISSIONS] };

describe('Open edX pull against the simulator', () => {
  it('a full scan equals the truth: 1 token, one list request per 20 credentials (the server\'s page size), titles from discovery on its own host', async () => {
    const s = await setup({ seed: 'oe-full' });
    const engine = createStoreEmulation();
    const { pages, completed, warnings } = await engine.run(s);
    expect(completed).toBe(true);
    expectEqualsTruth(engine.store, s.sim);
    const n = s.sim.truth().length;
    expect(n).toBeGreaterThan(100);
    const c = await counters(s.url);
    const lists = Math.ceil(n / 20);
    expect(pages).toHaveLength(lists);
    expect(c.requests_by_endpoint[LIST]).toBe(lists);
    expect(c.requests_by_endpoint[TOKEN]).toBe(1);
    // Nothing stored was unlisted, so nothing was looked up one by one.
    expect(c.requests_by_endpoint[DETAIL]).toBeUndefined();
    // The catalog is asked on its own host, at most once per kind and page.
    const d = await counters(s.discoveryUrl);
    expect(apiRequests(d)).toBeGreaterThan(0);
    expect(apiRequests(d)).toBeLessThanOrEqual(lists * 2);
    // Teak has no download_url: no certificate offers a file, and the run says so.
    expect(warnings).toEqual({ no_file: n });
    expect([...engine.store.values()].every((cert) => !cert.file.available)).toBe(true);
    // The last checkpoint begins a new scan; every page names its progress.
    expect(readOpenedxCheckpoint(engine.checkpoint)).toEqual({ v: 1, page: null, count: null, last: null });
    expect(pages.at(-1)?.progress).toEqual({ done: n, total: n });
    // Each program / run once in the catalog, titled, and every certificate's achievement among them.
    const catalog = pages.flatMap((p) => p.achievements ?? []);
    expect(new Set(catalog.map((a) => `${a.type}:${a.external_id}`)).size).toBe(catalog.length);
    expect(catalog.every((a) => a.title !== null)).toBe(true);
    for (const cert of engine.store.values()) expect(catalog).toContainEqual(cert.achievement);
  });

  it('without catalog_url the scan asks no catalog and stores untitled achievements, with a warning', async () => {
    const s = await setup({ seed: 'oe-nocat', people: 60, discovery: false });
    expect(s.config.catalog_url).toBeUndefined();
    const engine = createStoreEmulation();
    const { pages, completed, warnings } = await engine.run(s);
    expect(completed).toBe(true);
    const catalog = pages.flatMap((p) => p.achievements ?? []);
    expect(catalog.length).toBeGreaterThan(0);
    expect(catalog.every((a) => a.title === null)).toBe(true);
    expect(warnings.untitled_achievements).toBe(catalog.length);
    expect(pages.flatMap((p) => p.warnings ?? []).find((w) => w.code === 'untitled_achievements')?.message).toMatch(/no catalog_url/);
    // Everything else as the truth says, but for the titles.
    const untitled = withoutPersonKey(s.sim.truth()).map((t) => ({ ...t, achievement: { ...t.achievement, title: null } }));
    expect([...engine.store.values()].map(({ raw: _raw, ...c }) => c).sort((a, b) => (a.external_id < b.external_id ? -1 : 1))).toEqual(untitled);
  });

  it('a catalog_url that is no discovery service (the Credentials host: an HTML 404) degrades to untitled with one warning, never a failed scan', async () => {
    const s = await setup({ seed: 'oe-badcat', people: 60, discovery: false });
    const config = { ...s.config, catalog_url: s.url };
    const engine = createStoreEmulation();
    const { pages, completed, warnings } = await engine.run({ ...s, config });
    expect(completed).toBe(true);
    expect(warnings.catalog_unavailable).toBe(1);
    expect(pages.flatMap((p) => p.warnings ?? []).find((w) => w.code === 'catalog_unavailable')?.message).toMatch(/did not answer.*HTTP 404/);
    expect(pages.flatMap((p) => p.achievements ?? []).every((a) => a.title === null)).toBe(true);
    // Asked once: a catalog that failed is not asked again this run.
    expect(Object.entries((await counters(s.url)).requests_by_endpoint).filter(([e]) => e.includes('/api/v1/')).length).toBeLessThanOrEqual(1);
    expect(engine.store.size).toBe(s.sim.truth().length);
  });

  it('a crash mid-scan resumes near the page after the last one saved; deletions meanwhile lose nothing, and the next scan sweeps them', async () => {
    const s = await setup({ seed: 'oe-crash' });
    const engine = createStoreEmulation();
    const first = await engine.run(s, { stopAfter: 3 });
    expect(first.completed).toBe(false);
    expect(readOpenedxCheckpoint(engine.checkpoint)).toMatchObject({ v: 1, page: 4, count: s.sim.truth().length, size: 20 });
    // Meanwhile a credential already saved is deleted: every later row shifts one place back.
    const gone = String(first.pages[0]?.certificates[0]?.external_id);
    await sim(s.url, `/credentials/${gone}`, { method: 'DELETE' });
    await resetCounters(s.url);
    const resumed = await engine.run(s);
    expect(resumed.completed).toBe(true);
    // The list shrank by one since the crash: the scan steps back one page (page 3), not to the start.
    expect(resumed.pages[0]?.progress?.done).toBe(20);
    const pagesLeft = Math.ceil(s.sim.truth().length / 20) - 2;
    expect((await counters(s.url)).requests_by_endpoint[LIST]).toBe(pagesLeft + 1);
    // Nothing lost: every credential is there, as it is now. The deleted one was seen by this scan (before it
    // was deleted), so only the next scan sweeps it.
    const truth = withoutPersonKey(s.sim.truth());
    for (const t of truth) expect(engine.store.get(t.external_id)).toMatchObject(t);
    expect([...engine.store.keys()].filter((id) => !truth.some((t) => t.external_id === id))).toEqual([gone]);
    expect(readOpenedxCheckpoint(engine.checkpoint)?.page).toBeNull();
    await engine.run(s);
    expectEqualsTruth(engine.store, s.sim);
  });

  it('deletions before the scan position while it runs do not make it miss (and sweep) the rows that shift back', async () => {
    const s = await setup({ seed: 'oe-shift' });
    const engine = createStoreEmulation();
    // List order: as the first scan read it (no ORDER BY: not creation order).
    const before = (await engine.run(s)).pages.flatMap((p) => p.certificates);
    const { completed } = await engine.run(s, {
      afterPage: async (n) => {
        if (n !== 2 && n !== 4) return;
        // Rows of pages already read: everything after them slides back.
        for (const t of before.slice(4 * n, 4 * n + 3)) await sim(s.url, `/credentials/${t.external_id}`, { method: 'DELETE' });
      },
    });
    expect(completed).toBe(true);
    const truth = withoutPersonKey(s.sim.truth());
    for (const t of truth) expect(engine.store.get(t.external_id)).toMatchObject(t);
    await engine.run(s);
    expectEqualsTruth(engine.store, s.sim);
  });

  it('a row the list hides mid-scan (one deleted before the position, one added after it: count unchanged) is looked up, not swept', async () => {
    const s = await setup({ seed: 'oe-hidden', people: 60, order: 'id' });
    const engine = createStoreEmulation();
    const listed = (await engine.run(s)).pages.flatMap((p) => p.certificates);
    expect(listed.length).toBeGreaterThan(60);
    const cat = (await sim(s.url, '/catalog')) as { programs: { uuid: string }[] };
    const newcomer = { person: { email: 'ny.person@eksempel.no' }, program_uuid: cat.programs[0]?.uuid };
    await resetCounters(s.url);
    const second = await engine.run(s, {
      afterPage: async (n) => {
        if (n !== 2) return;
        // Row 1 goes (row 41 slides onto page 2, already read) and a new credential is appended: count unchanged.
        await sim(s.url, `/credentials/${listed[0]?.external_id}`, { method: 'DELETE' });
        await sim(s.url, '/credentials', { method: 'POST', body: newcomer });
      },
    });
    expect(second.completed).toBe(true);
    // The row that slid back was not listed this scan; the end of the scan looked it up and kept it.
    expect((await counters(s.url)).requests_by_endpoint[DETAIL]).toBe(1);
    expect(second.warnings.unlisted_credentials).toBe(1);
    const truth = withoutPersonKey(s.sim.truth());
    for (const t of truth) expect(engine.store.get(t.external_id)).toMatchObject(t);
    await engine.run(s);
    expectEqualsTruth(engine.store, s.sim);
  });

  it('a resumed page that no longer exists (404 Invalid page.) reads the list again from page 1', async () => {
    const s = await setup({ seed: 'oe-shrink', people: 60, pageSize: 10 });
    const engine = createStoreEmulation();
    const n = s.sim.truth().length;
    const pages = Math.ceil(n / 10);
    expect(pages).toBeGreaterThan(3);
    await engine.run(s, { stopAfter: pages - 1 });
    expect(readOpenedxCheckpoint(engine.checkpoint)?.page).toBe(pages);
    // Leave 10 * (pages - 2) credentials: the page the checkpoint points at is gone.
    for (const t of s.sim.truth().slice(0, n - 10 * (pages - 2))) await sim(s.url, `/credentials/${t.external_id}`, { method: 'DELETE' });
    expect((await engine.run(s)).completed).toBe(true);
    const truth = withoutPersonKey(s.sim.truth());
    for (const t of truth) expect(engine.store.get(t.external_id)).toMatchObject(t);
    await engine.run(s);
    expectEqualsTruth(engine.store, s.sim);
  });

  it('converges with 5xx, truncated bodies and connection resets injected', async () => {
    const s = await setup({ seed: 'oe-faults' });
    await sim(s.url, '/faults', { method: 'POST', body: { error_rate: 0.1, truncate_rate: 0.05, reset_rate: 0.05, seed: 'oe' } });
    const engine = createStoreEmulation();
    expect((await engine.run(s)).completed).toBe(true);
    expectEqualsTruth(engine.store, s.sim);
    const c = await counters(s.url);
    expect(Object.keys(c.faults_injected).length).toBeGreaterThan(1);
  });

  it('a page served with the previous page\'s rows is asked again, so one scan still returns every credential', async () => {
    const s = await setup({ seed: 'oe-repeat' });
    await sim(s.url, '/faults', { method: 'POST', body: { repeat_page_rate: 0.3, error_rate: 0.05, seed: 'oe-r' } });
    const engine = createStoreEmulation();
    const { pages, completed } = await engine.run(s);
    expect(completed).toBe(true);
    // One complete scan (then swept) and nothing missing: the stale pages were read again.
    expectEqualsTruth(engine.store, s.sim);
    expect((await counters(s.url)).requests_by_endpoint[LIST]).toBeGreaterThan(pages.length);
    // No credential handed over twice.
    const ids = pages.flatMap((p) => p.certificates.map((c) => c.external_id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a page that stays stale fails the run (no sweep of a scan known to be incomplete); the next run resumes there', async () => {
    const s = await setup({ seed: 'oe-stale', people: 60, pageSize: 10 });
    const engine = createStoreEmulation();
    await sim(s.url, '/faults', { method: 'POST', body: { repeat_page_rate: 1 } });
    const err = await engine.run(s).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_unavailable' });
    expect(String((err as Error).message)).toMatch(/page 2 keeps listing the rows of the page before it/);
    expect(readOpenedxCheckpoint(engine.checkpoint)?.page).toBe(2);
    await sim(s.url, '/faults', { method: 'DELETE' });
    const resumed = await engine.run(s);
    expect(resumed.pages[0]?.progress?.done).toBe(10);
    expectEqualsTruth(engine.store, s.sim);
  });

  it.each(['http-date', 'seconds'] as const)('converges through a 429 burst with Retry-After as %s', async (format) => {
    const s = await setup({ seed: `oe-429-${format}`, people: 60 });
    await sim(s.url, '/faults', { method: 'POST', body: { burst_429: 2, retry_after_seconds: 1, retry_after_format: format } });
    const engine = createStoreEmulation();
    expect((await engine.run(s)).completed).toBe(true);
    expectEqualsTruth(engine.store, s.sim);
    expect((await counters(s.url)).throttled_429).toBe(2);
  });

  it('fetches a new token after a 401 and finishes; a refused client is an error naming the credentials', async () => {
    const s = await setup({ seed: 'oe-token', people: 40, pageSize: 10 });
    const engine = createStoreEmulation();
    await engine.run(s, { stopAfter: 1 });
    await sim(s.url, '/tokens/expire', { method: 'POST' });
    expect((await engine.run(s)).completed).toBe(true);
    expectEqualsTruth(engine.store, s.sim);
    expect((await counters(s.url)).requests_by_endpoint[TOKEN]).toBe(2);

    const wrong = { ...s, config: { ...s.config, oauth: { ...s.config.oauth, client_secret: 'not-the-secret' } } };
    const err = await createStoreEmulation()
      .run(wrong)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_error', message: 'Open edX rejected the client credentials' });
  });

  it('a 403 names the missing permission and is not retried, nor is a new token fetched for it', async () => {
    const s = await setup({ seed: 'oe-403', people: 20, clients: [{ permissions: [] }], learnerStatusWorker: 'another-service-user' });
    const err = await createStoreEmulation()
      .run(s)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'forbidden', message: expect.stringContaining('credentials.view_usercredential') as string });
    const c = await counters(s.url);
    expect(c.requests_by_endpoint[LIST]).toBe(1);
    expect(c.requests_by_endpoint[TOKEN]).toBe(1);
    // Learner status without staff status: the same kind of error, naming what it needs.
    const session = createOpenedxSession(s.http, s.config);
    const status = await learnerCertStatus(session, { username: 'x@example.no', course_runs: ['course-v1:X+Y+Z'] }).catch((e: unknown) => e);
    expect(status).toMatchObject({ code: 'forbidden', message: expect.stringContaining('staff') as string });
  });

  it('follows no next link to another origin: the token goes only to base_url', async () => {
    const s = await setup({ seed: 'oe-origin', people: 20 });
    const seen: string[] = [];
    const elsewhere = http.createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
      res.end('{"count":0,"next":null,"previous":null,"results":[]}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const other = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/api/v2/credentials/?page=2`;
      const session = createOpenedxSession(s.http, s.config);
      const err = await listCredentialsPage(session, other).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'provider_error', message: expect.stringContaining('another origin') as string });
      expect(seen).toEqual([]);
      // Its own origin is followed as before.
      expect(await listCredentialsPage(session, credentialsPageUrl(s.config, 1))).toMatchObject({ count: expect.any(Number) as number });
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });

  it('stops when the signal aborts', async () => {
    const s = await setup({ seed: 'oe-abort', people: 60 });
    const ac = new AbortController();
    const ctx = { sourceId: 'openedx', config: s.config, http: s.http, full: false, signal: ac.signal, now: s.clock.now };
    const pull = createOpenedxProvider().pull(ctx, null)[Symbol.asyncIterator]();
    await pull.next();
    ac.abort(new Error('stop'));
    await expect(pull.next()).rejects.toThrow();
  });
});

describe('Open edX item shapes of both releases', () => {
  it('Sumac with download URLs: every certificate offers its PDF, fetched from download_url; Teak and a null download_url offer none', async () => {
    const s = await setup({ seed: 'oe-sumac', people: 30, release: 'sumac', downloadUrls: true });
    const engine = createStoreEmulation();
    const { warnings } = await engine.run(s);
    expectEqualsTruth(engine.store, s.sim);
    expect(warnings.no_file).toBeUndefined();
    const cert = [...engine.store.values()][0]!;
    expect(cert.file.available).toBe(true);
    const file = await openedxProvider.fetchFile!({ config: s.config, http: s.http, signal: new AbortController().signal }, { external_id: cert.external_id, raw: cert.raw });
    expect(file.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const nulls = await setup({ seed: 'oe-sumac-null', people: 30, release: 'sumac' });
    const plain = createStoreEmulation();
    const run = await plain.run(nulls);
    expect([...plain.store.values()].every((c) => !c.file.available && (c.raw as { download_url?: unknown }).download_url === null)).toBe(true);
    expect(run.warnings.no_file).toBe(plain.store.size);
    const one = [...plain.store.values()][0]!;
    await expect(openedxProvider.fetchFile!({ config: nulls.config, http: nulls.http, signal: new AbortController().signal }, { external_id: one.external_id, raw: one.raw })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('Open edX writes and status checks against the simulator', () => {
  it('creates a credential, revokes and re-awards it, reads it, and asks for learner certificate status (single and bulk)', async () => {
    const s = await setup({ seed: 'oe-write', people: 40, clients: [WRITER] });
    const session = createOpenedxSession(s.http, s.config);
    const cat = (await sim(s.url, '/catalog')) as { programs: { uuid: string }[]; courses: { uuid: string; runs: { key: string; certificate_available_date: string | null }[] }[] };
    const course = cat.courses.find((c) => c.runs.some((r) => r.certificate_available_date === null));
    const run = course?.runs.find((r) => r.certificate_available_date === null)?.key ?? '';

    const made = await createCredential(session, { username: 'Kari.Ås@Eksempel.no', credential: { course_run_key: run, mode: 'verified' } });
    expect(made).toMatchObject({ username: 'Kari.Ås@Eksempel.no', status: 'awarded', credential: { course_run_key: run } });
    // Posting the same award again is an upsert: same uuid.
    expect((await createCredential(session, { username: 'Kari.Ås@Eksempel.no', credential: { course_run_key: run } })).uuid).toBe(made.uuid);
    const program = await createCredential(session, { username: 'Kari.Ås@Eksempel.no', credential: { program_uuid: String(cat.programs[0]?.uuid) }, attributes: [{ name: 'whitelist_reason', value: 'Godkjent' }] });
    expect(program.credential.program_uuid).toBe(cat.programs[0]?.uuid);

    const status = await learnerCertStatus(session, { username: 'Kari.Ås@Eksempel.no', course_runs: [run] });
    expect(status.status.map((e) => e.course_run.key)).toEqual([run]);
    expect((await revokeCredential(session, made.uuid)).status).toBe('revoked');
    expect((await getCredential(session, made.uuid))?.status).toBe('revoked');
    expect((await learnerCertStatus(session, { username: 'Kari.Ås@Eksempel.no', course_runs: [run] })).status).toEqual([]);
    expect((await setCredentialStatus(session, made.uuid, 'awarded')).status).toBe('awarded');

    const bulk = await bulkLearnerCertStatus(session, [
      { username: 'Kari.Ås@Eksempel.no', courses: [String(course?.uuid)] },
      { lms_user_id: 99_999_999, course_runs: [run] },
    ]);
    expect(bulk).toHaveLength(2);
    expect(bulk[0]?.status.length).toBe(1);
    expect(bulk[1]).toEqual({ lms_user_id: 99_999_999, username: null, status: [] });
    expect(await getCredential(session, '00000000-0000-4000-8000-000000000000')).toBeNull();

    // The pull sees what was written.
    const engine = createStoreEmulation();
    await engine.run(s);
    expectEqualsTruth(engine.store, s.sim);
    expect(engine.store.get(made.uuid)?.subject.email).toBe('Kari.Ås@Eksempel.no');
  });

  it('learner status bodies the service would answer badly are refused before sending', async () => {
    const s = await setup({ seed: 'oe-status-bad', people: 10, clients: [WRITER] });
    const session = createOpenedxSession(s.http, s.config);
    await resetCounters(s.url);
    const both = { username: 'a@example.no', lms_user_id: 7, course_runs: ['course-v1:X+Y+Z'] } as unknown as LearnerCertStatusQuery;
    await expect(learnerCertStatus(session, both)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('exactly one of username and lms_user_id') as string });
    await expect(learnerCertStatus(session, { username: 'a@example.no' })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('at least one course') as string });
    await expect(bulkLearnerCertStatus(session, [{ username: 'a@example.no', courses: ['c'] }, { username: '', courses: ['c'] }])).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('learner status query 2') as string,
    });
    expect(apiRequests(await counters(s.url))).toBe(0);
  });

  it('an unknown program or run is a provider_error; Open edX\'s answer stays in details, out of the message (issue 13, finding 3)', async () => {
    const s = await setup({ seed: 'oe-write-bad', people: 10, clients: [WRITER] });
    const session = createOpenedxSession(s.http, s.config);
    const err = await createCredential(session, { username: 'x@example.no', credential: { program_uuid: '00000000-0000-4000-8000-000000000000' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_error' });
    expect(String((err as Error).message)).toBe('POST /api/v2/credentials/ returned HTTP 400');
    expect(String(((err as { details: { body: string } }).details).body)).toContain('No active ProgramCertificate');
  });
});
