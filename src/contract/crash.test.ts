/**
 * Crash safety against the real simulators: a sync in a child process is killed with SIGKILL at random moments
 * (three times per provider, twelve trials); the next run resumes, and a final complete run leaves the store
 * equal to the simulator's truth with no duplicate rows.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from '../simulators/common/prng.ts';
import { generateWorld } from '../simulators/common/world.ts';
import { createTestClock, type TestClock } from '../test-clock.testkit.ts';
import { CONTRACT_CASES } from './cases.testkit.ts';
import type { Store } from '../store/index.ts';
import { createSyncer, expectStoreEqualsTruth, openStore, setFaults, type RunningProvider } from './harness.testkit.ts';
import { databaseOf } from '../store/database.testkit.ts';

const CHILD = fileURLToPath(new URL('./crash-child.testkit.ts', import.meta.url));
const LOCK_TTL_MS = 1500;
/** A bigger world than the contract's, and latency on every request, so that kills land in the middle of runs. */
const PEOPLE: Record<string, number> = { frontcore: 60, falkor: 200, openedx: 500, springest: 300 };
/** Falkor and Springest answer in one request: a long latency keeps that request (and so the run) in flight. */
const LATENCY_MS: Record<string, number> = { frontcore: 15, falkor: 1000, openedx: 100, springest: 1000 };

interface Killed {
  killedAfterMs: number;
  finished: boolean;
}

/**
 * Starts a child sync and SIGKILLs it `killAfterMs` after its run has begun (its run row is in the store), so the
 * kill lands in the middle of the run whatever the machine's load does to start-up times.
 */
function runChildAndKill(env: Record<string, string>, store: Store, clock: TestClock, killAfterMs: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const childEnv = { ...process.env, ...env, CRASH_CLOCK_AT_SPAWN: clock.now().toISOString() };
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let timer: NodeJS.Timeout | undefined;
    const seen = new Set<string>();
    void store.sync.listRuns({ limit: 50 }).then((runs) => runs.forEach((r) => seen.add(r.id)));
    const poll = setInterval(() => {
      void store.sync.listRuns({ limit: 5 }).then((runs) => {
        if (timer === undefined && runs.some((r) => r.status === 'running' && !seen.has(r.id))) {
          clearInterval(poll);
          timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      });
    }, 20);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ killedAfterMs: killAfterMs, finished: false });
      else if (code === 0) resolve({ killedAfterMs: killAfterMs, finished: true });
      else reject(new Error(`crash child exited ${code}: ${stderr}`));
    });
  });
}

describe('crash safety (SIGKILL at random moments) against the simulators', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  for (const testCase of CONTRACT_CASES) {
    it(`[${testCase.provider}] three killed runs, then a full run: the store equals the truth, nothing duplicated`, async () => {
      // The simulator, the killed children and the final runs share one pinned clock.
      const clock = createTestClock();
      const world = generateWorld({ seed: `crash-${testCase.provider}`, people: PEOPLE[testCase.provider] ?? 100, asOf: clock.asOf });
      const running: RunningProvider = await testCase.start(world, { clock: clock.now });
      cleanups.push(() => running.close());
      await setFaults(running.simUrl, { latency_ms: LATENCY_MS[testCase.provider] ?? 15, latency_jitter_ms: 30 });
      const opened = await openStore([running.source]);
      cleanups.push(() => opened.close());
      const env = {
        CRASH_SOURCE: JSON.stringify(running.source),
        CRASH_DB_URL: opened.url,
        CRASH_SECRET_KEY: opened.key.toString('base64'),
        CRASH_LOCK_TTL_MS: String(LOCK_TTL_MS),
      };
      const rng = createRng(`kills-${testCase.provider}`);
      const outcomes: Killed[] = [];
      for (let trial = 0; trial < 3; trial++) outcomes.push(await runChildAndKill(env, opened.store, clock, rng.int(0, 900)));
      // Mid-run changes at the provider, then the run that must converge (after the dead runs' locks expire).
      await running.mutate();
      await new Promise((r) => setTimeout(r, LOCK_TTL_MS + 100));
      const syncer = createSyncer(opened.store, running.source, clock.now);
      syncer.advance(running.advanceForChangesMs ?? 0);
      // The first run completes the scan the killed runs left (pages they finished are not read again, so a change
      // there is seen by the next scan); the second is a fresh scan that began after every change.
      const resumed = await syncer.sync();
      expect(resumed.status, JSON.stringify({ outcomes, error: resumed.error })).toBe('succeeded');
      const final = await syncer.sync();
      expect(final.status, JSON.stringify({ outcomes, error: final.error })).toBe('succeeded');
      await expectStoreEqualsTruth(opened.store, running, expect);
      // Every certificate has exactly as many versions as distinct states it went through: no page applied twice.
      const versions = await databaseOf(opened.store).selectFrom('certificate_versions').select(['certificate_id', 'version']).execute();
      const pairs = new Set(versions.map((v) => `${v.certificate_id}:${v.version}`));
      expect(pairs.size).toBe(versions.length);
      const runs = await opened.store.sync.listRuns({ limit: 50 });
      expect(runs.filter((r) => r.status === 'running')).toEqual([]);
      // The kills hit runs in progress: at least one run died holding its lock and was marked failed on takeover.
      expect(outcomes.some((o) => !o.finished)).toBe(true);
      expect(runs.filter((r) => r.status === 'failed').length).toBeGreaterThanOrEqual(1);
    }, 60_000);
  }
});
