import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jittered, startSyncScheduler, type ScheduledSource } from './scheduler.ts';

const MINUTE = 60_000;

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2024-06-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('jittered', () => {
  it('stays within ±10% of the interval', () => {
    expect(jittered(1000, () => 0)).toBe(900);
    expect(jittered(1000, () => 0.5)).toBe(1000);
    expect(jittered(1000, () => 0.999999)).toBe(1100);
  });
});

describe('sync scheduler', () => {
  it('syncs each source every interval with jitter, never overlapping runs of one source', async () => {
    const starts: Record<string, number[]> = { a: [], b: [] };
    let running = 0;
    let maxRunning = 0;
    const scheduler = startSyncScheduler<ScheduledSource>({
      sources: [
        { key: 'a', everyMs: 10 * MINUTE },
        { key: 'b', everyMs: 15 * MINUTE },
      ],
      random: () => 1, // +10%
      async runSource(source, signal) {
        starts[source.key]!.push(Date.now());
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        // Source a's runs take longer than its interval: the next one must wait for it.
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, source.key === 'a' ? 12 * MINUTE : MINUTE);
          signal.addEventListener('abort', () => resolve(clearTimeout(timer)));
        });
        running -= 1;
      },
    });
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    await scheduler.stop();

    const t0 = Date.parse('2024-06-01T00:00:00Z');
    const offsets = (key: string) => starts[key]!.map((t) => Math.round(((t - t0) / MINUTE) * 10) / 10);
    // First runs within the first 10% of the interval (random 1 -> at the edge); then start to start every 11 min
    // (10 + 10%), except that a run longer than that is followed at once by the next.
    expect(offsets('a')).toEqual([1, 13, 25, 37, 49]);
    expect(offsets('b')).toEqual([1, 17.5, 34, 50.5]);
    expect(maxRunning).toBe(2); // a and b in parallel, never two of one source
  });

  it('keeps the cadence across restarts from the last run, and a failing run does not stop the schedule', async () => {
    const starts: number[] = [];
    const errors: unknown[] = [];
    const scheduled: number[] = [];
    const t0 = Date.now();
    const scheduler = startSyncScheduler<ScheduledSource>({
      sources: [{ key: 'a', everyMs: 10 * MINUTE }],
      random: () => 0.5,
      lastStartedAt: () => Promise.resolve(new Date(t0 - 4 * MINUTE)),
      runSource() {
        starts.push((Date.now() - t0) / MINUTE);
        return Promise.reject(new Error('provider down'));
      },
      onError: (_source, err) => errors.push(err),
      onScheduled: (_source, at) => scheduled.push((at.getTime() - t0) / MINUTE),
    });
    await vi.advanceTimersByTimeAsync(25 * MINUTE);
    await scheduler.stop();
    expect(starts).toEqual([6, 16]);
    // Each next run is announced when it is decided.
    expect(scheduled).toEqual([6, 16, 26]);
    expect(errors).toHaveLength(2);
  });

  it('stops cleanly: aborts the run in flight and waits for it', async () => {
    let aborted = false;
    let finished = false;
    const scheduler = startSyncScheduler<ScheduledSource>({
      sources: [{ key: 'a', everyMs: MINUTE }],
      random: () => 0,
      runSource: (_source, signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            // Cleanup takes a moment (record the run, release the lock).
            setTimeout(() => {
              finished = true;
              resolve();
            }, 100);
          });
        }),
    });
    await vi.advanceTimersByTimeAsync(1000);
    const stopping = scheduler.stop();
    expect(aborted).toBe(true);
    expect(finished).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    await stopping;
    expect(finished).toBe(true);
    // Nothing runs after stop.
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
  });
});
