/**
 * The loop both outbox workers run (webhook deliveries, pushes): a pass, again at once while passes find work, else a
 * sleep of at most pollMs (shorter when the next action is due sooner) that wake() cuts short. stop() is idempotent
 * and waits for the pass in flight.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { describeError } from '../errors.ts';

export interface WorkerLoop {
  wake(): void;
  start(): void;
  /** Stops after the pass in flight, then runs `onStopped` (closing the worker's connections). */
  stop(): Promise<void>;
}

export function createWorkerLoop(opts: {
  /** One pass: how many actions it worked on. */
  pass: () => Promise<number>;
  pollMs: number;
  /** How long until the next action is due (ms), or null: sleep pollMs. */
  nextDueInMs?: () => Promise<number | null>;
  logger?: Logger;
  /** Logged when a pass throws (the loop goes on). */
  what: string;
  onStopped?: () => Promise<void>;
}): WorkerLoop {
  let running: Promise<void> | null = null;
  let stopped: Promise<void> | null = null;
  let stopping = false;
  let wakeUp: (() => void) | null = null;
  const stopSignal = new AbortController();

  async function sleepMs(): Promise<number> {
    if (opts.nextDueInMs === undefined) return opts.pollMs;
    try {
      const due = await opts.nextDueInMs();
      return due === null ? opts.pollMs : Math.max(5, Math.min(opts.pollMs, due));
    } catch {
      return opts.pollMs;
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      let worked = 0;
      try {
        worked = await opts.pass();
      } catch (err) {
        opts.logger?.warn({ err: describeError(err) }, `${opts.what} failed; trying again`);
      }
      if (worked > 0 || stopping) continue;
      const ms = await sleepMs();
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        delay(ms, undefined, { signal: stopSignal.signal }).then(resolve, resolve);
      });
      wakeUp = null;
    }
  }

  return {
    wake: () => wakeUp?.(),
    start() {
      running ??= loop();
    },
    stop() {
      // Idempotent: the hub and a test may both stop it.
      stopped ??= (async () => {
        stopping = true;
        stopSignal.abort();
        wakeUp?.();
        await running;
        await opts.onStopped?.();
      })();
      return stopped;
    },
  };
}
