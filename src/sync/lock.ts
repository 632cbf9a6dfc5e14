import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AppError } from '../errors.ts';
import type { LockFence, Store } from '../store/index.ts';
import { withStoreRetries } from './store-retry.ts';

/** Long enough to ride out a slow page, short enough that a killed run blocks its source only briefly. */
export const DEFAULT_LOCK_TTL_MS = 30_000;

export interface HeldLock {
  readonly owner: string;
  /** Shown to every write made under the lock: the store refuses it once the lock was taken over. */
  readonly fence: LockFence;
  /** Aborted when the lock is lost (it expired and another run took it over): the run must stop writing. */
  readonly lost: AbortSignal;
  /** Names the run in the lock row, for the "already syncing (run X)" message others get. */
  setRun(runId: string): Promise<void>;
  /** Stops renewing and deletes the row. Never throws. */
  release(): Promise<void>;
}

/** `host:pid:random`: unique per attempt, and says where a stuck lock came from. */
export function lockOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Takes the source's sync lock and keeps renewing it every ttl/3 until released. Throws AppError('conflict') when a
 * live run holds it; an expired lock (its process died) is taken over.
 */
export async function acquireSourceLock(
  store: Pick<Store, 'locks'>,
  source: { id: string; slug: string },
  ttlMs: number = DEFAULT_LOCK_TTL_MS,
): Promise<HeldLock> {
  const owner = lockOwner();
  const acquire = () => withStoreRetries(() => store.locks.acquire(source.id, owner, ttlMs));
  let result = await acquire();
  // The holder released between our insert and our read: the row is gone, so one more try settles it.
  if (!result.acquired && result.holder.owner === '') result = await acquire();
  if (!result.acquired) {
    throw new AppError('conflict', `source ${source.slug} is already syncing (run ${result.holder.run_id ?? 'starting'})`, {
      details: result.holder,
    });
  }

  const { fence } = result;
  const lost = new AbortController();
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = withStoreRetries(() => store.locks.renew(fence, ttlMs), 3)
      .then((held) => {
        if (!held) {
          lost.abort(new AppError('conflict', `source ${source.slug}: the sync lock expired and was taken over by another run`));
        }
      })
      // A failed renewal (database hiccup) is retried at the next tick; the lock is only lost once it expires.
      .catch(() => undefined);
  }, Math.max(50, Math.floor(ttlMs / 3)));
  timer.unref();

  let released = false;
  return {
    owner,
    fence,
    lost: lost.signal,
    async setRun(runId) {
      if (!(await withStoreRetries(() => store.locks.setRun(source.id, owner, runId)))) {
        throw new AppError('conflict', `source ${source.slug}: the sync lock was taken over before the run started`);
      }
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await renewing;
      await withStoreRetries(() => store.locks.release(source.id, owner)).catch(() => undefined);
    },
  };
}
