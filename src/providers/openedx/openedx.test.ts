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
import { createOpenedxSimulator, type OpenedxSimulator } from '../../simulators/openedx/index.ts';
import { accountKey, createLimiterRegistry, createProviderHttpClient, defaultRate, type ProviderHttpClient } from '../http/index.ts';
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
  type OpenedxConfig,
} from './index.ts';

const AS_OF = '2026-06-01';
const open: { sim: OpenedxSimulator; http: ProviderHttpClient }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.http.close();
    await o.sim.sim.close();
  }
});

interface Setup {
  sim: OpenedxSimulator;
  url: string;
  config: OpenedxConfig;
  http: ProviderHttpClient;
}

async function setup(opts: { seed: string; people?: number; documentedRate?: boolean }): Promise<Setup> {
  const world = generateWorld({ seed: opts.seed, people: opts.people ?? 150, asOf: AS_OF });
  const sim = createOpenedxSimulator({ world, ...(opts.documentedRate ? {} : { throttle: false }) });
  const url = await sim.sim.listen(0, '127.0.0.1');
  // As the engine does: the YAML schema resolves the entry, the connector's configSchema reads the result.
  const config = openedxProvider.configSchema.parse(providerSourceSchema(openedxProvider).parse(sim.sourceConfigs()[0]));
  const rate = defaultRate(openedxProvider.rateLimit ?? { requests: 1, perSeconds: 1 });
  const limiter = opts.documentedRate ? createLimiterRegistry().bucket(accountKey('openedx', config.base_url, config.oauth.client_secret), rate) : undefined;
  const http = createProviderHttpClient({ retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 10 }, secrets: [config.oauth.client_secret], ...(limiter ? { limiter } : {}) });
  open.push({ sim, http });
  return { sim, url, config, http };
}

/** Emulates the engine for a full-scan provider: saves pages, keeps the checkpoint, sweeps after a completed scan. */
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
    async run(s: Setup, opts: { provider?: Provider<OpenedxConfig>; stopAfter?: number; signal?: AbortSignal; afterPage?: (n: number) => Promise<void> } = {}): Promise<{ pages: Page[]; completed: boolean }> {
      const provider = opts.provider ?? openedxProvider;
      scanSeen ??= new Set();
      const pages: Page[] = [];
      const ctx = { sourceId: 'openedx', config: s.config, http: s.http, full: false, signal: opts.signal ?? new AbortController().signal, now: () => new Date() };
      for await (const page of provider.pull(ctx, checkpoint)) {
        for (const c of page.certificates) {
          store.set(c.external_id, c);
          scanSeen.add(c.external_id);
        }
        checkpoint = page.checkpoint;
        pages.push(page);
        if (opts.stopAfter !== undefined && pages.length >= opts.stopAfter) return { pages, completed: false };
        await opts.afterPage?.(pages.length);
      }
      // pull ended without error: the scan (begun by an earlier run if that one crashed) is complete: sweep.
      for (const id of store.keys()) if (!scanSeen.has(id)) store.delete(id);
      scanSeen = null;
      return { pages, completed: true };
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

describe('Open edX pull against the simulator', () => {
  it('a full scan equals the truth, with 1 token + one list request per 100 credentials + one catalog request per kind and page', async () => {
    const s = await setup({ seed: 'oe-full' });
    const engine = createStoreEmulation();
    const { pages, completed } = await engine.run(s);
    expect(completed).toBe(true);
    expectEqualsTruth(engine.store, s.sim);
    const n = s.sim.truth().length;
    expect(n).toBeGreaterThan(100);
    const c = await counters(s.url);
    const byEndpoint = c.requests_by_endpoint;
    const lists = Math.ceil(n / 100);
    expect(pages).toHaveLength(lists);
    expect(byEndpoint['GET /api/v2/credentials']).toBe(lists);
    expect(byEndpoint['POST /oauth2/access_token']).toBe(1);
    expect(apiRequests(c)).toBeLessThanOrEqual(1 + lists * 3);
    // The last checkpoint begins a new scan; every page names its progress.
    expect(readOpenedxCheckpoint(engine.checkpoint)).toEqual({ v: 1, page: null, count: null, last: null });
    expect(pages.at(-1)?.progress).toEqual({ done: n, total: n });
    // Each program / run once in the catalog, and every certificate's achievement among them.
    const catalog = pages.flatMap((p) => p.achievements ?? []);
    expect(new Set(catalog.map((a) => `${a.type}:${a.external_id}`)).size).toBe(catalog.length);
    for (const cert of engine.store.values()) expect(catalog).toContainEqual(cert.achievement);
  });

  it('after adds, revokes, deletes and a renamed program the next pull (from the saved checkpoint) plus the sweep equals the truth', async () => {
    const s = await setup({ seed: 'oe-incr' });
    const engine = createStoreEmulation();
    await engine.run(s);
    const truth = s.sim.truth();
    const awarded = truth.filter((t) => t.status === 'awarded');
    const cat = (await sim(s.url, '/catalog')) as { programs: { uuid: string }[]; courses: { runs: { key: string }[] }[] };
    await sim(s.url, '/credentials', { method: 'POST', body: { person: { email: 'Åse.Ødegård@Eksempel.no' }, program_uuid: cat.programs[0]?.uuid } });
    await sim(s.url, '/credentials', { method: 'POST', body: { person: { email: 'nils@example.no' }, course_run_key: cat.courses[0]?.runs[0]?.key, created: '2025-10-26T01:30:00Z' } });
    await sim(s.url, `/credentials/${awarded[0]?.external_id}`, { method: 'PATCH', body: { status: 'revoked' } });
    await sim(s.url, `/credentials/${awarded[1]?.external_id}`, { method: 'DELETE' });
    await sim(s.url, `/credentials/${awarded[2]?.external_id}`, { method: 'DELETE' });
    await sim(s.url, `/programs/${cat.programs[1]?.uuid}`, { method: 'PATCH', body: { title: 'Ny tittel på programmet' } });
    expect((await engine.run(s)).completed).toBe(true);
    expectEqualsTruth(engine.store, s.sim);
    expect(engine.store.has(String(awarded[1]?.external_id))).toBe(false);
    expect(engine.store.get(String(awarded[0]?.external_id))?.status).toBe('revoked');
  });

  it('a crash mid-scan resumes near the page after the last one saved; deletions meanwhile lose nothing, and the next scan sweeps them', async () => {
    const s = await setup({ seed: 'oe-crash' });
    const provider = createOpenedxProvider({ pageSize: 20 });
    const engine = createStoreEmulation();
    const first = await engine.run(s, { provider, stopAfter: 3 });
    expect(first.completed).toBe(false);
    expect(readOpenedxCheckpoint(engine.checkpoint)).toMatchObject({ v: 1, page: 4, count: s.sim.truth().length });
    // Meanwhile a credential already saved is deleted: every later row shifts one place back.
    const gone = String(first.pages[0]?.certificates[0]?.external_id);
    await sim(s.url, `/credentials/${gone}`, { method: 'DELETE' });
    await resetCounters(s.url);
    const resumed = await engine.run(s, { provider });
    expect(resumed.completed).toBe(true);
    // The list shrank by one since the crash: the scan steps back one page (page 3), not to the start.
    expect(resumed.pages[0]?.progress?.done).toBe(3 * 20);
    const pagesLeft = Math.ceil(s.sim.truth().length / 20) - 2;
    expect((await counters(s.url)).requests_by_endpoint['GET /api/v2/credentials']).toBe(pagesLeft + 1);
    // Nothing lost: every credential is there, as it is now. The deleted one was seen by this scan (before it
    // was deleted), so only the next scan sweeps it.
    const truth = withoutPersonKey(s.sim.truth());
    for (const t of truth) expect(engine.store.get(t.external_id)).toMatchObject(t);
    expect([...engine.store.keys()].filter((id) => !truth.some((t) => t.external_id === id))).toEqual([gone]);
    expect(readOpenedxCheckpoint(engine.checkpoint)?.page).toBeNull();
    await engine.run(s, { provider });
    expectEqualsTruth(engine.store, s.sim);
  });

  it('deletions before the scan position while it runs do not make it miss (and sweep) the rows that shift back', async () => {
    const s = await setup({ seed: 'oe-shift' });
    const provider = createOpenedxProvider({ pageSize: 20 });
    const engine = createStoreEmulation();
    // List order: as the first scan read it.
    const before = (await engine.run(s, { provider })).pages.flatMap((p) => p.certificates);
    const { completed } = await engine.run(s, {
      provider,
      afterPage: async (n) => {
        if (n !== 2 && n !== 4) return;
        // Rows of page 1 (already read): everything after them slides back.
        for (const t of before.slice(2 * n, 2 * n + 3)) await sim(s.url, `/credentials/${t.external_id}`, { method: 'DELETE' });
      },
    });
    expect(completed).toBe(true);
    const truth = withoutPersonKey(s.sim.truth());
    for (const t of truth) expect(engine.store.get(t.external_id)).toMatchObject(t);
    await engine.run(s, { provider });
    expectEqualsTruth(engine.store, s.sim);
  });

  it('a resumed page that no longer exists (404 Invalid page.) reads the list again from page 1', async () => {
    const s = await setup({ seed: 'oe-shrink', people: 60 });
    const provider = createOpenedxProvider({ pageSize: 10 });
    const engine = createStoreEmulation();
    const n = s.sim.truth().length;
    const pages = Math.ceil(n / 10);
    expect(pages).toBeGreaterThan(3);
    await engine.run(s, { provider, stopAfter: pages - 1 });
    expect(readOpenedxCheckpoint(engine.checkpoint)?.page).toBe(pages);
    // Leave 10 * (pages - 2) credentials: the page the checkpoint points at is gone.
    for (const t of s.sim.truth().slice(0, n - 10 * (pages - 2))) await sim(s.url, `/credentials/${t.external_id}`, { method: 'DELETE' });
    expect((await engine.run(s, { provider })).completed).toBe(true);
    const truth = withoutPersonKey(s.sim.truth());
    for (const t of truth) expect(engine.store.get(t.external_id)).toMatchObject(t);
    await engine.run(s, { provider });
    expectEqualsTruth(engine.store, s.sim);
  });

  it('converges with 5xx, truncated bodies and connection resets injected', async () => {
    const s = await setup({ seed: 'oe-faults' });
    await sim(s.url, '/faults', { method: 'POST', body: { error_rate: 0.1, truncate_rate: 0.05, reset_rate: 0.05, seed: 'oe' } });
    const provider = createOpenedxProvider({ pageSize: 25 });
    const engine = createStoreEmulation();
    expect((await engine.run(s, { provider })).completed).toBe(true);
    expectEqualsTruth(engine.store, s.sim);
    const c = await counters(s.url);
    expect(Object.keys(c.faults_injected).length).toBeGreaterThan(1);
  });

  it('a page served with the previous page\'s rows is asked again, so one scan still returns every credential', async () => {
    const s = await setup({ seed: 'oe-repeat' });
    await sim(s.url, '/faults', { method: 'POST', body: { repeat_page_rate: 0.3, error_rate: 0.05, seed: 'oe-r' } });
    const provider = createOpenedxProvider({ pageSize: 20 });
    const engine = createStoreEmulation();
    const { pages, completed } = await engine.run(s, { provider });
    expect(completed).toBe(true);
    // One complete scan (then swept) and nothing missing: the stale pages were read again.
    expectEqualsTruth(engine.store, s.sim);
    expect((await counters(s.url)).requests_by_endpoint['GET /api/v2/credentials']).toBeGreaterThan(pages.length);
    // No credential handed over twice.
    const ids = pages.flatMap((p) => p.certificates.map((c) => c.external_id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a page that stays stale fails the run (no sweep of a scan known to be incomplete); the next run resumes there', async () => {
    const s = await setup({ seed: 'oe-stale', people: 60 });
    const provider = createOpenedxProvider({ pageSize: 10 });
    const engine = createStoreEmulation();
    await sim(s.url, '/faults', { method: 'POST', body: { repeat_page_rate: 1 } });
    const err = await engine.run(s, { provider }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_unavailable' });
    expect(String((err as Error).message)).toMatch(/page 2 keeps listing the rows of the page before it/);
    expect(readOpenedxCheckpoint(engine.checkpoint)?.page).toBe(2);
    await sim(s.url, '/faults', { method: 'DELETE' });
    const resumed = await engine.run(s, { provider });
    expect(resumed.pages[0]?.progress?.done).toBe(20);
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

  it('paced at 90% of the documented 2 requests/s the throttled simulator sends no 429; an unchanged second pull re-reads one page', async () => {
    const s = await setup({ seed: 'oe-rate', people: 60, documentedRate: true });
    const engine = createStoreEmulation();
    await engine.run(s);
    const first = await counters(s.url);
    expect(first.throttled_429).toBe(0);
    await resetCounters(s.url);
    const before = new Map(engine.store);
    const again = await engine.run(s);
    const c = await counters(s.url);
    expect(c.throttled_429).toBe(0);
    // 60 people -> under 100 credentials: one list page, its program titles, its run titles, and the token.
    expect(s.sim.truth().length).toBeLessThanOrEqual(100);
    expect(again.pages).toHaveLength(1);
    expect(apiRequests(c)).toBeLessThanOrEqual(4);
    expect(c.requests_by_endpoint).toMatchObject({ 'GET /api/v2/credentials': 1, 'POST /oauth2/access_token': 1 });
    expect(engine.store).toEqual(before);
  });

  it('fetches a new token after a 401 and finishes; a refused client is an error naming the credentials', async () => {
    const s = await setup({ seed: 'oe-token', people: 40 });
    const provider = createOpenedxProvider({ pageSize: 10 });
    const engine = createStoreEmulation();
    await engine.run(s, { provider, stopAfter: 1 });
    await sim(s.url, '/tokens/expire', { method: 'POST' });
    expect((await engine.run(s, { provider })).completed).toBe(true);
    expectEqualsTruth(engine.store, s.sim);
    expect((await counters(s.url)).requests_by_endpoint['POST /oauth2/access_token']).toBe(2);

    const wrong = { ...s, config: { ...s.config, oauth: { ...s.config.oauth, client_secret: 'not-the-secret' } } };
    const err = await createStoreEmulation()
      .run(wrong)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_error', message: 'Open edX rejected the client credentials' });
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
    const ctx = { sourceId: 'openedx', config: s.config, http: s.http, full: false, signal: ac.signal, now: () => new Date() };
    const pull = createOpenedxProvider({ pageSize: 10 }).pull(ctx, null)[Symbol.asyncIterator]();
    await pull.next();
    ac.abort(new Error('stop'));
    await expect(pull.next()).rejects.toThrow();
  });
});

describe('Open edX writes and status checks against the simulator', () => {
  it('creates a credential, revokes and re-awards it, reads it, and asks for learner certificate status (single and bulk)', async () => {
    const s = await setup({ seed: 'oe-write', people: 40 });
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

  it('an unknown program or run is a provider_error quoting Open edX', async () => {
    const s = await setup({ seed: 'oe-write-bad', people: 10 });
    const session = createOpenedxSession(s.http, s.config);
    const err = await createCredential(session, { username: 'x@example.no', credential: { program_uuid: '00000000-0000-4000-8000-000000000000' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_error' });
    expect(String((err as Error).message)).toMatch(/POST \/api\/v2\/credentials\/ returned HTTP 400: .*No active ProgramCertificate/);
  });
});
