/**
 * The FrontCore connector against the FrontCore simulator over real sockets: full and incremental pulls equal the
 * simulator's truth, also after a crash at any page, under faults and 429 bursts; paced at the default rate the
 * documented limit is never hit; a pull with nothing changed costs one request; status checks and diploma files.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { AppError } from '../../errors.ts';
import type { CounterSnapshot } from '../../simulators/common/counters.ts';
import type { TruthCertificate } from '../../simulators/common/truth.ts';
import { generateWorld } from '../../simulators/common/world.ts';
import { createFrontcoreSimulator, type FrontcoreSimulator } from '../../simulators/frontcore/index.ts';
import { startSimulatorProcess } from '../../simulators/process/process.testkit.ts';
import { ALLOW_PRIVATE_EGRESS, createLimiterRegistry, createProviderHttpClient, type ProviderHttpClient } from '../http/index.ts';
import type { Checkpoint, PullContext } from '../provider.ts';
import {
  checkStatusByDobName,
  checkStatusByNin,
  checkStatusByUserId,
  fetchDiplomaFile,
  FRONTCORE_DEFAULT_RATE,
  frontcoreConfigSchema,
  frontcoreLimiterKey,
  frontcoreProvider,
  listParticipants,
  readFrontcoreCheckpoint,
  type FrontcoreConfig,
} from './index.ts';
import { createTestClock, type TestClock } from '../../test-clock.testkit.ts';

// One pinned clock for the simulator and the connector: the world is dated up to the day before it starts, so
// changes made now are newer than all of it.
const defaultClock = createTestClock();
const RETRY = { baseDelayMs: 2, maxDelayMs: 20, maxAttempts: 10 };

interface Running {
  clock: TestClock;
  fc: FrontcoreSimulator;
  url: string;
  config: FrontcoreConfig;
  http: ProviderHttpClient;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(people: number, opts: { seed?: string; clock?: TestClock } = {}): Promise<Running> {
  const clock = opts.clock ?? defaultClock;
  const world = generateWorld({ seed: opts.seed ?? 'fc-connector', people, asOf: clock.asOf });
  // Fast enough never to throttle: the pacing test runs FrontCore at its documented 5/s in a process of its own.
  const fc = createFrontcoreSimulator({ world, clock: clock.now, rateLimit: { limit: 100_000, windowMs: 1000 } });
  const url = await fc.sim.listen(0, '127.0.0.1');
  const config = frontcoreConfigSchema.parse(fc.sourceConfigs()[0]);
  const client = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, secrets: [config.api_key], retry: RETRY });
  cleanups.push(() => fc.sim.close(), () => client.close());
  return { clock, fc, url, config, http: client };
}

const ctxOf = (r: Running, signal: AbortSignal = new AbortController().signal, full = false): PullContext<FrontcoreConfig> => ({
  sourceId: r.config.id,
  config: r.config,
  http: r.http,
  full,
  signal,
  now: r.clock.now,
});

type Store = Map<string, NormalizedCertificate>;

/** Runs pull like the engine: each page's certificates and checkpoint saved together (last write wins per id). */
async function pull(r: Running, store: Store, checkpoint: Checkpoint | null, opts: { stopAfter?: number; full?: boolean } = {}) {
  let saved = checkpoint;
  let pages = 0;
  const before = apiRequests(r.fc.sim.counters.snapshot());
  for await (const page of frontcoreProvider.pull(ctxOf(r, undefined, opts.full), checkpoint)) {
    for (const c of page.certificates) store.set(c.external_id, c);
    saved = page.checkpoint;
    pages += 1;
    // A crash right after this page's transaction committed.
    if (pages === opts.stopAfter) break;
  }
  return { checkpoint: saved, pages, requests: apiRequests(r.fc.sim.counters.snapshot()) - before };
}

/** Requests to FrontCore's API (not the simulator's control routes). */
const apiRequests = (s: CounterSnapshot): number => Object.entries(s.requests_by_endpoint).reduce((n, [k, v]) => (k.startsWith('GET /v2/') ? n + v : n), 0);

const view = ({ raw: _raw, subject: { national_id: _nin, ...subject }, ...rest }: NormalizedCertificate): unknown => ({ ...rest, subject });
const truthView = (truth: TruthCertificate[]): unknown[] => truth.map(({ person_key: _key, ...t }) => t);
const sorted = (store: Store): unknown[] => [...store.values()].sort((a, b) => (a.external_id < b.external_id ? -1 : 1)).map(view);

function expectStoreEqualsTruth(r: Running, store: Store): void {
  expect(sorted(store)).toEqual(truthView(r.fc.truth()));
}

const control = async <T = unknown>(r: Running, method: string, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${r.url}/__sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (res.status >= 300) throw new Error(`${method} /__sim${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};

/** Changes of every kind through the control routes: add (world person, walk-in, enrolment), change, rename, delete. */
async function mutate(r: Running, round: number): Promise<void> {
  const truth = r.fc.truth().filter((t) => t.status === 'awarded');
  const course = r.fc.data.courses[round % r.fc.data.courses.length];
  if (!course) throw new Error('no course');
  const holder = r.fc.data.holders[round + 1];
  await control(r, 'POST', '/diplomas', { person_key: holder?.key, course_id: course.id });
  await control(r, 'POST', '/diplomas', {
    person: { key: `walk-in-${round}`, first_name: 'Åse', last_name: 'Bø', email: ` Ase.Bo${round}@Acme.no`, date_of_birth: '1990-01-15', national_identification_number: null },
    course_id: course.id,
  });
  await control(r, 'POST', '/participants', { person_key: r.fc.data.holders[round + 2]?.key, course_id: course.id, completed: false });
  await control(r, 'PATCH', `/diplomas/${truth[round]?.external_id}`, { serial: `CHANGED-${round}` });
  await control(r, 'PATCH', `/users/${truth[round + 5]?.subject.provider_user_id}`, { email: `changed.${round}@example.no` });
  await control(r, 'DELETE', `/diplomas/${truth[round + 10]?.external_id}`);
  await control(r, 'PATCH', `/courses/${course.id}`, { title: `Brannvern ${round} – øvelse` });
}

/** FrontCore stamps whole seconds: wait until the clock has left the second of the last change. */
const nextSecond = (r: Running): Promise<void> => sleep(1005 - (r.clock.nowMs() % 1000));

describe('FrontCore connector against the simulator', () => {
  it('a full pull equals the truth with one request per participants page plus one per user holding a diploma; changes arrive incrementally; nothing changed costs one request', async () => {
    const r = await start(150);
    const store: Store = new Map();
    const full = await pull(r, store, null);
    expectStoreEqualsTruth(r, store);
    const participantPages = Math.floor(r.fc.data.participants.length / 250) + 1;
    const users = new Set(r.fc.truth().map((t) => t.subject.provider_user_id)).size;
    expect(full.requests).toBe(participantPages + users);
    expect(readFrontcoreCheckpoint(full.checkpoint)).toMatchObject({ v: 2, since: expect.any(String) as string });
    expect(readFrontcoreCheckpoint(full.checkpoint)?.scan).toBeUndefined();

    await mutate(r, 1);
    await nextSecond(r);
    const changed = await pull(r, store, full.checkpoint);
    expectStoreEqualsTruth(r, store);
    // Only the users the changes touched: the new holders, the edited user, the renamed course's holders...
    expect(changed.requests).toBeLessThan(full.requests / 2);

    const idle = await pull(r, store, changed.checkpoint);
    expect(idle).toMatchObject({ pages: 1, requests: 1 });
    const again = await pull(r, store, idle.checkpoint);
    expect(again).toMatchObject({ pages: 1, requests: 1 });
    expectStoreEqualsTruth(r, store);
  });

  // Oslo's clocks skip 02:00-03:00 on 2027-03-28 and repeat 02:00-03:00 on 2026-10-25 (00:00-01:00 UTC both times).
  for (const [night, at] of [['spring-forward', '2027-03-28T00:55:00Z'], ['fall-back', '2026-10-25T00:55:00Z']] as const) {
    it(`on a DST night (${night}) a change next to the clock change is found, and a sync with nothing changed still costs one request`, async () => {
      const r = await start(60, { seed: 'fc-dst', clock: createTestClock(at) });
      const store: Store = new Map();
      const full = await pull(r, store, null);
      await mutate(r, 4);
      await nextSecond(r);
      // The high-water mark now sits minutes before the change of offset: the next scan reads two hours further back.
      const changed = await pull(r, store, full.checkpoint);
      expectStoreEqualsTruth(r, store);
      expect(readFrontcoreCheckpoint(changed.checkpoint)?.since).toMatch(/^2027-03-28 01:5|^2026-10-25 02:5/);
      // Whatever the wider window reads again was handled already: no diploma is asked for twice.
      r.clock.advance(30 * 60_000);
      const idle = await pull(r, store, changed.checkpoint);
      expect(idle).toMatchObject({ pages: 1, requests: 1 });
      r.clock.advance(60 * 60_000);
      const later = await pull(r, store, idle.checkpoint);
      expect(later).toMatchObject({ pages: 1, requests: 1 });
      expectStoreEqualsTruth(r, store);
    });
  }

  it('a crash after any page resumes from its checkpoint with nothing lost, also when FrontCore changes in between', async () => {
    const r = await start(110, { seed: 'fc-crash' });
    const whole = await pull(r, new Map(), null);
    const total = whole.pages;
    expect(total).toBeGreaterThan(3);
    for (let k = 1; k < total; k++) {
      const store: Store = new Map();
      const crashed = await pull(r, store, null, { stopAfter: k });
      expect(readFrontcoreCheckpoint(crashed.checkpoint)?.scan).toBeDefined();
      if (k === 2) await mutate(r, 20);
      const resumed = await pull(r, store, crashed.checkpoint);
      // What the crashed run saved is not asked for again: at most its participants page is read twice.
      if (k < 2) expect(crashed.requests + resumed.requests).toBeLessThanOrEqual(whole.requests + 1);
      // Changes made behind the scan's position are found by the next run.
      if (k === 2) {
        await nextSecond(r);
        await pull(r, store, resumed.checkpoint);
      }
      expectStoreEqualsTruth(r, store);
    }
  });

  it('converges under 5xx, truncated bodies, connection resets and 429 bursts (Retry-After as an HTTP date and in seconds)', async () => {
    const r = await start(60, { seed: 'fc-faults' });
    await control(r, 'POST', '/faults', { error_rate: 0.1, truncate_rate: 0.05, reset_rate: 0.05, seed: 'fc' });
    const store: Store = new Map();
    const first = await pull(r, store, null);
    expectStoreEqualsTruth(r, store);

    await mutate(r, 2);
    await control(r, 'POST', '/faults', { burst_429: 2, retry_after_seconds: 1, retry_after_format: 'http-date' });
    const second = await pull(r, store, first.checkpoint);
    expectStoreEqualsTruth(r, store);

    await mutate(r, 3);
    await control(r, 'POST', '/faults', { burst_429: 2, retry_after_seconds: 1, retry_after_format: 'seconds' });
    await pull(r, store, second.checkpoint);
    expectStoreEqualsTruth(r, store);

    const counters = await (await fetch(`${r.url}/__sim/counters`)).json() as CounterSnapshot;
    expect(counters.faults_injected.burst_429).toBe(4);
    expect(counters.faults_injected.connection_reset ?? 0).toBeGreaterThan(0);
    expect(r.http.stats().retries).toBeGreaterThan(4);
  }, 15_000);

  it('paced at the default 4.5/s on one bucket per account, a pull and status checks together never draw a 429 from the documented 5/s', async () => {
    expect(FRONTCORE_DEFAULT_RATE).toMatchObject({ requests: 4.5, perSeconds: 1 });
    expect(frontcoreProvider.rateLimit).toEqual({ requests: 5, perSeconds: 1 });
    // FrontCore at its documented 5/s in a process of its own, so that it stamps each arrival on time whatever this
    // process is busy with (as a provider's server would).
    const sim = await startSimulatorProcess({ provider: 'frontcore', seed: 'fc-rate', people: 12, asOf: defaultClock.asOf, clock: defaultClock.now });
    cleanups.push(() => sim.close());
    const config = frontcoreConfigSchema.parse(sim.sources[0]);
    const bucket = createLimiterRegistry().bucket(frontcoreLimiterKey(config), FRONTCORE_DEFAULT_RATE);
    const client = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, secrets: [config.api_key], retry: RETRY, limiter: bucket });
    cleanups.push(() => client.close());
    const r = { config, http: client };
    const truth = (await (await fetch(`${sim.url}/__sim/truth`)).json()) as TruthCertificate[];
    const someone = truth[0];
    if (!someone) throw new Error('empty world');
    const store: Store = new Map();
    const pullAll = async (): Promise<void> => {
      const ctx = { sourceId: config.id, config, http: client, full: false, signal: new AbortController().signal, now: defaultClock.now };
      for await (const page of frontcoreProvider.pull(ctx, null)) for (const c of page.certificates) store.set(c.external_id, c);
    };
    // A second client of the same account (an on-demand status check) shares the bucket.
    await Promise.all([
      pullAll(),
      checkStatusByUserId(r, { user_id: Number(someone.subject.provider_user_id), course_id: Number(someone.achievement.external_id) }),
      checkStatusByUserId(r, { user_id: Number(someone.subject.provider_user_id), course_id: 1 }),
    ]);
    expect(sorted(store)).toEqual(truthView(truth));
    const counters = (await (await fetch(`${sim.url}/__sim/counters`)).json()) as CounterSnapshot;
    expect(counters.throttled_429).toBe(0);
    expect(apiRequests(counters)).toBeGreaterThan(10);
  }, 60_000);

  it('stops when the run is cancelled (ctx.signal)', async () => {
    const r = await start(60, { seed: 'fc-abort' });
    const controller = new AbortController();
    let pages = 0;
    const run = (async () => {
      for await (const _page of frontcoreProvider.pull(ctxOf(r, controller.signal), null)) {
        pages += 1;
        controller.abort(new AppError('cancelled', 'stopped'));
      }
    })();
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(pages).toBe(1);
  });
});

describe('FrontCore status checks and diploma files against the simulator', () => {
  it('checks certificate status by NIN, by birth date + name and by user id (assumed paths)', async () => {
    const r = await start(40, { seed: 'fc-status' });
    const store: Store = new Map();
    await pull(r, store, null);
    const withNin = [...store.values()].find((c) => c.status === 'awarded' && c.subject.national_id);
    if (!withNin) throw new Error('nobody with a national id holds a diploma');
    const course_id = Number(withNin.achievement.external_id);
    const byNin = await checkStatusByNin(r, { national_identification_number: withNin.subject.national_id ?? '', course_id });
    expect(byNin.valid).toBe(true);
    expect(byNin.items.map((i) => String(i.id))).toContain(withNin.external_id);
    const { first_name, last_name, date_of_birth } = withNin.subject;
    const byName = await checkStatusByDobName(r, { date_of_birth: date_of_birth ?? '', firstname: first_name ?? '', lastname: last_name ?? '', course_id });
    expect(byName.items.map((i) => String(i.id))).toContain(withNin.external_id);
    const byUser = await checkStatusByUserId(r, { user_id: Number(withNin.subject.provider_user_id), course_id });
    expect(byUser).toMatchObject({ success: 'ok', valid: true });
    expect(await checkStatusByUserId(r, { user_id: Number(withNin.subject.provider_user_id), course_id: 1 })).toMatchObject({ valid: false, items: [] });
  });

  it('fetches a diploma PDF through a fresh 60-second link; a deleted diploma is not_found', async () => {
    const r = await start(30, { seed: 'fc-files' });
    const store: Store = new Map();
    await pull(r, store, null);
    const awarded = [...store.values()].find((c) => c.status === 'awarded');
    const deleted = [...store.values()].find((c) => c.status === 'deleted');
    if (!awarded || !deleted) throw new Error('the world needs an awarded and a deleted diploma');
    // The stored raw diploma keeps no download token.
    expect(JSON.stringify(awarded.raw)).not.toContain('token=');
    const file = await fetchDiplomaFile(r, awarded);
    expect(file.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(file).toMatchObject({ contentType: 'application/pdf', filename: `diploma-${awarded.external_id}.pdf` });
    // Without the raw payload the user's diplomas are asked for instead of the participant's.
    const byUser = await fetchDiplomaFile(r, { external_id: awarded.external_id, subject: { provider_user_id: awarded.subject.provider_user_id } });
    expect(byUser.bytes.equals(file.bytes)).toBe(true);
    await expect(fetchDiplomaFile(r, deleted)).rejects.toMatchObject({ code: 'not_found' });
    await expect(fetchDiplomaFile(r, { external_id: '1', raw: awarded.raw })).rejects.toMatchObject({ code: 'not_found' });
    const counters = r.fc.sim.counters.snapshot().requests_by_endpoint;
    expect(Object.keys(counters).some((k) => k.includes('/download'))).toBe(true);
  });

  it('a wrong API key is a provider_error naming endpoint and status, FrontCore\'s answer only in details (issue 13, finding 3), never the key; a payload off the schema says where', async () => {
    const r = await start(10, { seed: 'fc-errors' });
    const wrong = { ...r.config, api_key: 'fc_wrong_key_0123456789' };
    const err = await listParticipants({ http: createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, secrets: [wrong.api_key], retry: RETRY }), config: wrong }, { since_id: 0, updated_at_min: null }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'provider_error' });
    expect((err as Error).message).toBe('GET /v2/participants returned HTTP 401');
    expect(JSON.stringify((err as AppError).details)).toContain('Wrong API Key');
    expect(JSON.stringify({ m: (err as Error).message, d: (err as AppError).details })).not.toContain(wrong.api_key);

    const server = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ id: 1, updated_at: '15.02.2024 09:00' }]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base_url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const bad = await listParticipants({ http: r.http, config: { base_url, api_key: 'fc_x' } }, { since_id: 0, updated_at_min: null }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'provider_error', message: expect.stringMatching(/^GET \/v2\/participants returned an unexpected payload: 0\.updated_at: /) as string });
  });
});
