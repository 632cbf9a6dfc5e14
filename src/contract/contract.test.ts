/**
 * ONE contract suite, run for every provider against its simulator over real sockets, through the real
 * connector, HTTP client, sync engine and store: a full sync equals the simulator's truth; after changes an
 * incremental sync equals it again; with faults on it still converges; paced at the documented rate the
 * simulator sends no 429; a sync with nothing changed costs at most one page of requests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateWorld } from '../simulators/common/world.ts';
import { createTestClock } from '../test-clock.testkit.ts';
import { CONTRACT_CASES } from './cases.testkit.ts';
import { startSimulatorProcess } from '../simulators/process/process.testkit.ts';
import { clearFaults, counters, createSyncer, expectStoreEqualsTruth, openStore, parseSource, resetCounters, setFaults, type RunningProvider } from './harness.testkit.ts';
import { databaseOf } from '../store/database.testkit.ts';

/** Requests the simulator received on the provider's own endpoints (not its /__sim control API). */
const providerRequests = (c: { requests_by_endpoint: Record<string, number> }): number =>
  Object.entries(c.requests_by_endpoint).filter(([name]) => !name.includes('/__sim')).reduce((n, [, v]) => n + v, 0);

// One pinned clock per test for the simulator and certhub; the world is dated up to the day before it starts.
const world = (people: number, asOf: string): ReturnType<typeof generateWorld> => generateWorld({ seed: 'contract', people, asOf });

for (const testCase of CONTRACT_CASES) {
  describe(`provider contract [${testCase.provider}]`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      while (cleanups.length) await cleanups.pop()?.();
    });
    const setup = async (): Promise<{ running: RunningProvider; store: Awaited<ReturnType<typeof openStore>>['store']; syncer: ReturnType<typeof createSyncer> }> => {
      const clock = createTestClock();
      const running = await testCase.start(world(testCase.people, clock.asOf), { clock: clock.now });
      cleanups.push(() => running.close());
      const opened = await openStore([running.source]);
      cleanups.push(() => opened.close());
      return { running, store: opened.store, syncer: createSyncer(opened.store, running.source, clock.now) };
    };

    it('a full sync equals the simulator\'s ground truth exactly', async () => {
      const { running, store, syncer } = await setup();
      const report = await syncer.sync();
      expect(report.error).toBeNull();
      expect(report.status).toBe('succeeded');
      expect(report.certificates.created).toBe((await running.truth()).length);
      await expectStoreEqualsTruth(store, running, expect);
      // The achievements catalog names every achievement a certificate points at, with its title.
      const catalog = await databaseOf(store).selectFrom('achievements').selectAll().execute();
      const named = new Set(catalog.map((a) => `${a.type}:${a.external_id}`));
      const pointedAt = new Set((await running.truth()).map((t) => `${t.achievement.type}:${t.achievement.external_id}`));
      expect([...pointedAt].filter((k) => !named.has(k))).toEqual([]);
      expect(catalog.every((a) => a.title !== null)).toBe(true);
    });

    it('after the provider adds, changes and deletes certificates, an incremental sync equals the truth again', async () => {
      const { running, store, syncer } = await setup();
      expect((await syncer.sync()).status).toBe('succeeded');
      await running.mutate();
      syncer.advance(running.advanceForChangesMs ?? 0);
      const report = await syncer.sync();
      expect(report.status).toBe('succeeded');
      expect(report.certificates.created).toBeGreaterThanOrEqual(1);
      // A change is an update; a deletion is a sweep (deleted) or, where the provider reports it, an update to `deleted`.
      expect(report.certificates.updated + report.certificates.deleted).toBeGreaterThanOrEqual(2);
      await expectStoreEqualsTruth(store, running, expect);
    });

    it('with 5xx, truncated bodies, connection resets and 429 bursts (Retry-After in seconds and as a date) the sync still converges', async () => {
      const { running, store, syncer } = await setup();
      await setFaults(running.simUrl, { error_rate: 0.1, truncate_rate: 0.05, reset_rate: 0.05, burst_429: 1, retry_after_seconds: 1, retry_after_format: 'http-date', seed: 'contract-1' });
      const first = await syncer.sync();
      expect(first.status).toBe('succeeded');
      expect(first.throttled_429).toBeGreaterThanOrEqual(1);
      await running.mutate();
      syncer.advance(running.advanceForChangesMs ?? 0);
      await setFaults(running.simUrl, { burst_429: 1, retry_after_format: 'seconds', seed: 'contract-2' });
      expect((await syncer.sync()).status).toBe('succeeded');
      await clearFaults(running.simUrl);
      await expectStoreEqualsTruth(store, running, expect);
    });

    it(`paced at the documented rate the simulator sends no 429; a sync with nothing changed makes at most ${testCase.noChangeRequests ?? 1} request(s)`, { timeout: testCase.paced?.timeoutMs ?? 30_000 }, async () => {
      // The simulator runs in a process of its own: it stamps each arrival on time, whatever certhub (in this
      // process) is busy with, as a provider's server would.
      const clock = createTestClock();
      const sim = await startSimulatorProcess({ provider: testCase.provider, seed: 'contract', people: testCase.paced?.people ?? testCase.people, asOf: clock.asOf, clock: clock.now });
      cleanups.push(() => sim.close());
      const running = { source: parseSource(sim.sources[0] ?? {}), simUrl: sim.url };
      // Every host of the source counts (Open edX's course-discovery is one of its own).
      const hosts = [sim.url, ...(typeof running.source.catalog_url === 'string' ? [running.source.catalog_url] : [])];
      const hostCounters = () => Promise.all(hosts.map((h) => counters(h)));
      const resetAll = () => Promise.all(hosts.map((h) => resetCounters(h)));
      const opened = await openStore([running.source]);
      cleanups.push(() => opened.close());
      const syncer = createSyncer(opened.store, running.source, clock.now);
      await resetAll();
      expect((await syncer.sync()).status).toBe('succeeded');
      expect((await hostCounters()).reduce((n, c) => n + c.throttled_429, 0)).toBe(0);
      await resetAll();
      const again = await syncer.sync();
      expect(again.status).toBe('succeeded');
      expect(again.certificates).toMatchObject({ created: 0, updated: 0, deleted: 0 });
      const sent = (await hostCounters()).reduce((n, c) => n + providerRequests(c), 0);
      expect(sent).toBeLessThanOrEqual(testCase.noChangeRequests ?? 1);
      expect(Object.values(again.requests_by_endpoint).reduce((a, b) => a + b, 0)).toBe(sent);
    });
  });
}
