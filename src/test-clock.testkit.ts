/**
 * One clock for a test, handed to the simulators and to certhub alike: it starts at a pinned instant and runs on
 * at the real rate (from the monotonic clock, which `faketime` leaves alone here), so a test's data never comes
 * from the wall clock, while "a change made now is newer than the last sync" and waits still hold.
 */
import { performance } from 'node:perf_hooks';
import { defaultSandboxAsOf } from './simulators/common/world.ts';

export interface TestClock {
  /** The seeded world's "today" (YYYY-MM-DD): the day before the clock's start, so changes made now are newer. */
  readonly asOf: string;
  readonly now: () => Date;
  readonly nowMs: () => number;
  /** Moves the clock forward (a later sync, a day later). */
  readonly advance: (ms: number) => void;
}

/** An ordinary day, away from DST changes and month ends; tests about those pin their own instant. */
export const DEFAULT_TEST_START = '2026-06-11T10:00:00Z';

export function createTestClock(start: string = DEFAULT_TEST_START): TestClock {
  const startMs = Date.parse(start);
  if (Number.isNaN(startMs)) throw new Error(`bad test clock start ${start}`);
  const origin = performance.now();
  let offset = 0;
  const nowMs = (): number => Math.floor(startMs + offset + (performance.now() - origin));
  return {
    asOf: defaultSandboxAsOf(new Date(startMs)),
    now: () => new Date(nowMs()),
    nowMs,
    advance: (ms) => {
      offset += ms;
    },
  };
}

/**
 * In a child process: the parent's test clock, as it read when it spawned this process (`atSpawn`, ISO), running on
 * from this process's start, so that parent and child read one clock.
 */
export function continueTestClock(atSpawn: string): TestClock {
  return createTestClock(new Date(Date.parse(atSpawn) + performance.now()).toISOString());
}
