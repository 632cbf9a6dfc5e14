/**
 * The scheduler `certhub serve` runs: each source syncs every `sync_every`, start to start, with ±10% jitter so sources
 * (and several certhub processes) drift apart instead of hitting providers in step. One loop per source, so runs of a
 * source never overlap; a run that takes longer than the interval is followed by the next one at once. stop() aborts
 * the runs in flight (they record themselves failed and release their locks) and waits for every loop to end.
 */

export interface ScheduledSource {
  /** Stable name for logs, e.g. the source id. */
  key: string;
  everyMs: number;
}

export interface SchedulerOptions<S extends ScheduledSource> {
  sources: readonly S[];
  /** One sync; its failures are reported to onError and the schedule goes on. */
  runSource(source: S, signal: AbortSignal): Promise<unknown>;
  /** When the source last started a sync, so a restart keeps the cadence; null when never (due now). */
  lastStartedAt?(source: S): Promise<Date | null>;
  onError?(source: S, err: unknown): void;
  /** When the source's next run is due, each time that is decided (for "next sync" in the API). */
  onScheduled?(source: S, at: Date): void;
  /** Default Math.random. */
  random?: () => number;
  /** Default Date.now. */
  now?: () => number;
}

export interface SyncScheduler {
  /** Aborts runs in flight and resolves when every loop has ended. Idempotent. */
  stop(): Promise<void>;
}

export const JITTER = 0.1;

/** `everyMs` ±10%, uniformly. */
export function jittered(everyMs: number, random: () => number = Math.random): number {
  return Math.round(everyMs * (1 - JITTER + 2 * JITTER * random()));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function startSyncScheduler<S extends ScheduledSource>(opts: SchedulerOptions<S>): SyncScheduler {
  const controller = new AbortController();
  const { signal } = controller;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;

  async function firstDelay(source: S): Promise<number> {
    let last: Date | null = null;
    try {
      last = (await opts.lastStartedAt?.(source)) ?? null;
    } catch (err) {
      opts.onError?.(source, err);
    }
    // Never synced: soon, but spread over the first tenth of the interval (at most a minute) so sources do not all
    // start at the same instant.
    if (last === null) return Math.floor(random() * Math.min(opts.sources.length > 1 ? source.everyMs * JITTER : 0, 60_000));
    return Math.max(0, last.getTime() + jittered(source.everyMs, random) - now());
  }

  async function loop(source: S): Promise<void> {
    let delay = await firstDelay(source);
    while (!signal.aborted) {
      opts.onScheduled?.(source, new Date(now() + delay));
      await sleep(delay, signal);
      if (signal.aborted) break;
      const started = now();
      try {
        await opts.runSource(source, signal);
      } catch (err) {
        if (!signal.aborted) opts.onError?.(source, err);
      }
      delay = Math.max(0, started + jittered(source.everyMs, random) - now());
    }
  }

  const loops = opts.sources.map((source) => loop(source));
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        controller.abort(new Error('scheduler stopped'));
        await Promise.all(loops);
      })();
      return stopped;
    },
  };
}
