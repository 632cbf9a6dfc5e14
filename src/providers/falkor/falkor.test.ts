/**
 * The Falkor connector against the Falkor simulator over real sockets: full scan, incremental runs with the
 * engine's sweep emulated, crash and resume, the unchanged-hash shortcut, faults and 429 bursts.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerSourceSchema } from '../../config/schema.ts';
import type { FalkorConfig } from './schema.ts';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { AppError } from '../../errors.ts';
import { generateWorld } from '../../simulators/common/world.ts';
import { createFalkorSimulator, type FalkorSimulator } from '../../simulators/falkor/index.ts';
import { ALLOW_PRIVATE_EGRESS, createProviderHttpClient, type ProviderHttpClient } from '../http/index.ts';
import type { CatalogAchievement, Checkpoint, Page, Provider } from '../provider.ts';
import { createFalkorProvider, falkorProvider, readFalkorCheckpoint, STORY_CERTIFICATES_ENDPOINT } from './index.ts';

const PAGE_SIZE = 20;
const provider = createFalkorProvider({ pageSize: PAGE_SIZE });

let fk: FalkorSimulator;
let origin: string;
let config: FalkorConfig;
let http: ProviderHttpClient;

beforeAll(async () => {
  fk = createFalkorSimulator({ world: generateWorld({ seed: 'falkor-connector', people: 150, asOf: '2026-06-01' }) });
  origin = await fk.sim.listen(0);
  const source = fk.sourceConfigs().find((s) => s.id === 'falkor-acme');
  config = falkorProvider.configSchema.parse(providerSourceSchema(falkorProvider).parse(source));
});
afterAll(async () => {
  await fk.sim.close();
});
beforeEach(async () => {
  http = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, retry: { baseDelayMs: 1, maxDelayMs: 20, maxAttempts: 10 }, secrets: [config.token] });
  await sim('DELETE', '/faults');
  await sim('POST', '/counters/reset');
});
afterEach(async () => {
  await http.close();
});

async function sim<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${origin}/__sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.ok, `${method} ${path}`).toBe(true);
  return (await res.json()) as T;
}

type Expected = Omit<NormalizedCertificate, 'raw'>;
const truth = async (): Promise<Expected[]> =>
  (await sim<(Expected & { person_key: string })[]>('GET', '/accounts/acme/truth')).map(({ person_key: _ignored, ...rest }) => rest);
const uidOf = (url: string): string => url.slice(url.lastIndexOf('/') + 1);
const requests = async (): Promise<number> =>
  (await sim<{ requests_by_endpoint: Record<string, number> }>('GET', '/counters')).requests_by_endpoint[STORY_CERTIFICATES_ENDPOINT] ?? 0;

/** What the sync engine does with pages (src/sync/engine.ts): last write wins per external_id, sweep after a complete scan. */
interface EngineState {
  certificates: Map<string, NormalizedCertificate>;
  catalog: Map<string, CatalogAchievement>;
  checkpoint: Checkpoint | null;
  /** A full scan in progress (it may span runs): what it has seen. */
  scan: Set<string> | null;
}
const newEngine = (): EngineState => ({ certificates: new Map(), catalog: new Map(), checkpoint: null, scan: null });

async function runSync(
  state: EngineState,
  opts: { full?: boolean; crashAfterPages?: number; using?: Provider<FalkorConfig> } = {},
): Promise<{ pages: Page[]; swept: string[] }> {
  const full = opts.full === true;
  if (full || state.scan === null) state.scan = new Set();
  const seen = state.scan;
  const pages: Page[] = [];
  let unchanged = false;
  const ctx = { sourceId: 'falkor-acme', config, http, full, signal: new AbortController().signal, now: () => new Date() };
  for await (const page of (opts.using ?? provider).pull(ctx, full ? null : state.checkpoint)) {
    pages.push(page);
    if (page.unchanged === true) unchanged = true;
    for (const c of page.certificates) {
      state.certificates.set(c.external_id, c);
      seen.add(c.external_id);
    }
    for (const a of page.achievements ?? []) state.catalog.set(a.external_id, a);
    // Saved with the page, in the same transaction.
    state.checkpoint = JSON.parse(JSON.stringify(page.checkpoint)) as Checkpoint;
    if (pages.length === opts.crashAfterPages) return { pages, swept: [] }; // the process dies here: no sweep
  }
  const swept: string[] = [];
  if (!unchanged) {
    for (const id of state.certificates.keys()) {
      if (!seen.has(id)) {
        state.certificates.delete(id);
        swept.push(id);
      }
    }
  }
  state.scan = null;
  return { pages, swept };
}

const held = (state: EngineState): Expected[] =>
  [...state.certificates.values()].map(({ raw: _raw, ...rest }) => rest).sort((a, b) => (a.external_id < b.external_id ? -1 : 1));

describe('Falkor connector against the simulator', () => {
  it('a full pull equals the truth, in one request, paged, with every story in the catalog', async () => {
    const state = newEngine();
    const { pages } = await runSync(state);
    const expected = await truth();
    expect(expected.length).toBeGreaterThan(2 * PAGE_SIZE);
    expect(held(state)).toEqual(expected);
    expect(await requests()).toBe(1);
    expect(pages.length).toBe(Math.ceil(expected.length / PAGE_SIZE));
    expect(pages.at(-1)?.progress).toEqual({ done: expected.length, total: expected.length });
    // Every story with a certificate is named, typed lower-case, keyed ID:name.
    const stories = new Set(expected.map((c) => c.achievement.external_id));
    expect(new Set(state.catalog.keys())).toEqual(stories);
    for (const a of state.catalog.values()) expect(['story', 'assessment', 'survey', 'scorm']).toContain(a.type);
    // Mid-run checkpoints carry the scan; the last one only the hash, so the next pull starts a new scan.
    expect(readFalkorCheckpoint(pages[0]!.checkpoint)).toEqual({ v: 1, hash: null, scan: { hash: expect.any(String) as string, done: PAGE_SIZE } });
    expect(readFalkorCheckpoint(state.checkpoint)).toEqual({ v: 1, hash: expect.any(String) as string });
    const counters = await sim<{ throttled_429: number }>('GET', '/counters');
    expect(counters.throttled_429).toBe(0);
  });

  it('incremental runs: an unchanged account costs one request and one empty `unchanged` page; changes converge', async () => {
    const state = newEngine();
    await runSync(state);
    await sim('POST', '/counters/reset');

    // Nothing changed: one request, one page, nothing re-read, nothing swept.
    const quiet = await runSync(state);
    expect(quiet.pages).toEqual([{ certificates: [], unchanged: true, checkpoint: state.checkpoint }]);
    expect(quiet.swept).toEqual([]);
    expect(await requests()).toBe(1);

    // Change the world: a new story, new certificates (Norwegian letters), pending -> delivered, a removal.
    const before = await truth();
    const pending = before.find((c) => c.status === 'pending');
    const removed = before.find((c) => c.status === 'awarded');
    expect(pending && removed).toBeTruthy();
    await sim('PATCH', `/accounts/acme/certificates/${uidOf(pending!.external_id)}`, { state: 'delivered' });
    await sim('DELETE', `/accounts/acme/certificates/${uidOf(removed!.external_id)}`);
    await sim('POST', '/accounts/acme/stories', { name: 'Ladder safety', type: 'SCORM' });
    const added = await sim<{ url: string }>('POST', '/accounts/acme/certificates', {
      person: { firstname: 'Åse', lastname: 'Ødegård', email: ' Ase@Example.NO' },
      story: 'Ladder safety',
      state: 'pending',
    });
    await sim('POST', '/accounts/acme/certificates', { person_key: 'p000012', story: 3, state: 'delivered' });

    await sim('POST', '/counters/reset');
    const changed = await runSync(state);
    expect(await requests()).toBe(1);
    expect(changed.swept).toEqual([removed!.external_id]);
    expect(held(state)).toEqual(await truth());
    expect(state.certificates.get(pending!.external_id)?.status).toBe('awarded');
    expect(state.certificates.get(added.url)).toMatchObject({ status: 'pending', achievement: { type: 'scorm', title: 'Ladder safety' }, subject: { first_name: 'Åse' } });
    expect([...state.catalog.values()].some((a) => a.title === 'Ladder safety' && a.type === 'scorm')).toBe(true);

    // `full` ignores the stored hash: everything is read again.
    const full = await runSync(state, { full: true });
    expect(full.pages.some((p) => p.unchanged === true)).toBe(false);
    expect(held(state)).toEqual(await truth());
  });

  it('a crash mid-scan resumes after the saved pages (same answer) and never counts as unchanged', async () => {
    const state = newEngine();
    await runSync(state, { crashAfterPages: 2 });
    expect(readFalkorCheckpoint(state.checkpoint)?.scan?.done).toBe(2 * PAGE_SIZE);
    const resumed = await runSync(state);
    expect(resumed.pages.some((p) => p.unchanged === true)).toBe(false);
    const total = (await truth()).length;
    // Only what was not saved yet is handed over again.
    expect(resumed.pages.reduce((n, p) => n + p.certificates.length, 0)).toBe(total - 2 * PAGE_SIZE);
    expect(held(state)).toEqual(await truth());
  });

  it('a crash mid-scan, then a change: the resumed scan starts over and the sweep still sees everything', async () => {
    const state = newEngine();
    await runSync(state);
    // A removal that the crashed run never saw the consequence of.
    const gone = (await truth()).at(-1)!;
    await sim('DELETE', `/accounts/acme/certificates/${uidOf(gone.external_id)}`);
    await runSync(state, { crashAfterPages: 1 });
    const added = await sim<{ url: string }>('POST', '/accounts/acme/certificates', { person_key: 'p000020', story: 0, state: 'pending' });
    const resumed = await runSync(state);
    expect(resumed.pages[0]?.progress?.done).toBe(PAGE_SIZE); // from the start: the answer changed
    expect(resumed.swept).toEqual([gone.external_id]);
    expect(state.certificates.has(added.url)).toBe(true);
    expect(held(state)).toEqual(await truth());
  });

  it('converges with 5xx errors, truncated bodies and connection resets', async () => {
    await sim('POST', '/faults', { error_rate: 0.1, truncate_rate: 0.05, reset_rate: 0.05, seed: 'falkor-connector' });
    const state = newEngine();
    for (let run = 0; run < 6; run++) {
      await runSync(state, { full: run % 2 === 0 });
      expect(held(state)).toEqual(await truth());
    }
    const injected = (await sim<{ faults_injected: Record<string, number> }>('GET', '/counters')).faults_injected;
    expect(Object.values(injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(http.stats().retries).toBeGreaterThan(0);
  });

  it.each(['http-date', 'seconds'] as const)('waits out a 429 burst (Retry-After as %s) and converges', async (format) => {
    await sim('POST', '/faults', { burst_429: 2, retry_after_seconds: 1, retry_after_format: format });
    const state = newEngine();
    await runSync(state);
    expect(held(state)).toEqual(await truth());
    expect(http.stats().throttled_429).toBe(2);
    expect((await sim<{ throttled_429: number }>('GET', '/counters')).throttled_429).toBe(2);
  });

  it('a wrong token is a provider_error that does not print the token; an aborted pull stops', async () => {
    const ctx = { sourceId: 'falkor-acme', http, full: false, signal: new AbortController().signal, now: () => new Date() };
    const bad = falkorProvider.pull({ ...ctx, config: { ...config, token: 'd3Jvbmc6dG9rZW4=' } }, null);
    const err = await bad[Symbol.asyncIterator]().next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('provider_error');
    expect((err as AppError).message).toMatch(/^POST \/v1\/logs\/story-certificates returned HTTP 401/);
    expect(JSON.stringify({ m: (err as AppError).message, d: (err as AppError).details })).not.toContain('d3Jvbmc6dG9rZW4=');

    const controller = new AbortController();
    controller.abort(new AppError('internal', 'stop'));
    await expect(falkorProvider.pull({ ...ctx, config, signal: controller.signal }, null)[Symbol.asyncIterator]().next()).rejects.toThrow('stop');
  });
});
