import { isAppError } from '../errors.ts';
import { isTransientStoreError } from '../store/index.ts';

/** Tries of one store write before the run gives up on it (the first included). */
export const STORE_ATTEMPTS = 6;

/**
 * Runs a store write again while it fails transiently (isTransientStoreError): every write of a run (its start and
 * finish, the lock and its renewals, scans, pages with their checkpoints) rolls back whole on such a failure, so a
 * retry is safe. A race (unique violation, deadlock) is retried at once; a busy or lost database (database_unavailable,
 * which already waited ~2 s for SQLite's lock) after a pause that doubles, ~3 s in all, enough for a restart.
 */
export async function withStoreRetries<T>(write: () => Promise<T>, attempts: number = STORE_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= attempts || !isTransientStoreError(err)) throw err;
      const pause = isAppError(err) && err.code === 'database_unavailable' ? Math.min(2000, 100 * 2 ** (attempt - 1)) : 20 * attempt;
      await new Promise((resolve) => setTimeout(resolve, pause + Math.floor(Math.random() * 30)));
    }
  }
}
