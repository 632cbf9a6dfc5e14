import { isoNow, type StoreContext } from './context.ts';
import type { SyncLocksTable } from './schema.ts';

/** Who holds a source's sync lock, as stored. */
export interface SyncLockHolder {
  owner: string;
  run_id: string | null;
  acquired_at: string | null;
  expires_at: string;
}

export type AcquireResult = { acquired: true } | { acquired: false; holder: SyncLockHolder };

/**
 * One sync per source at a time, across processes: a `sync_locks` row with an owner and an expiry. The holder renews
 * it while it runs; a holder that died (SIGKILL, power loss) stops renewing, and once the row has expired the next
 * run takes it over. All comparisons are of ISO-8601 UTC strings, which sort as instants.
 */
export interface SyncLockRepository {
  /** Takes the lock when it is free or expired; otherwise reports who holds it. Atomic on both dialects. */
  acquire(sourceId: string, owner: string, ttlMs: number, opts?: { now?: Date }): Promise<AcquireResult>;
  /** Names the run holding the lock (for the "already syncing (run X)" message). False when no longer held. */
  setRun(sourceId: string, owner: string, runId: string): Promise<boolean>;
  /** Pushes the expiry out; false when the lock was lost (expired and taken over), so the run must stop. */
  renew(sourceId: string, owner: string, ttlMs: number, opts?: { now?: Date }): Promise<boolean>;
  /** Gives the lock up; a no-op when someone else holds it now. */
  release(sourceId: string, owner: string): Promise<void>;
  get(sourceId: string): Promise<SyncLockHolder | null>;
  /**
   * Runs of the source still marked `running` other than `runId`: their process died without finishing (only the lock
   * holder may run). They become `failed` with `error`, so run history never shows a ghost run.
   */
  failAbandonedRuns(sourceId: string, runId: string, error: string, opts?: { now?: Date }): Promise<number>;
}

function toHolder(row: SyncLocksTable): SyncLockHolder {
  return { owner: row.owner, run_id: row.run_id, acquired_at: row.acquired_at, expires_at: row.expires_at };
}

export function createSyncLockRepository(ctx: StoreContext): SyncLockRepository {
  const { db } = ctx;
  const expiry = (now: Date, ttlMs: number) => new Date(now.getTime() + ttlMs).toISOString();

  const repo: SyncLockRepository = {
    async acquire(sourceId, owner, ttlMs, opts) {
      const now = opts?.now ?? new Date();
      const nowIso = now.toISOString();
      const expiresAt = expiry(now, ttlMs);
      // One statement: insert, or take over a row whose holder let it expire. A live holder's row is left alone.
      await db
        .insertInto('sync_locks')
        .values({ source_id: sourceId, owner, run_id: null, acquired_at: nowIso, expires_at: expiresAt })
        .onConflict((oc) =>
          oc
            .column('source_id')
            .doUpdateSet({ owner, run_id: null, acquired_at: nowIso, expires_at: expiresAt })
            .where('sync_locks.expires_at', '<=', nowIso),
        )
        .execute();
      const row = await db.selectFrom('sync_locks').selectAll().where('source_id', '=', sourceId).executeTakeFirst();
      if (row !== undefined && row.owner === owner) return { acquired: true };
      // Released between our insert and our read: nobody holds it, but we did not get it either; the caller retries.
      return {
        acquired: false,
        holder: row === undefined ? { owner: '', run_id: null, acquired_at: null, expires_at: nowIso } : toHolder(row),
      };
    },

    async setRun(sourceId, owner, runId) {
      const r = await db
        .updateTable('sync_locks')
        .set({ run_id: runId })
        .where('source_id', '=', sourceId)
        .where('owner', '=', owner)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    async renew(sourceId, owner, ttlMs, opts) {
      const r = await db
        .updateTable('sync_locks')
        .set({ expires_at: expiry(opts?.now ?? new Date(), ttlMs) })
        .where('source_id', '=', sourceId)
        .where('owner', '=', owner)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    async release(sourceId, owner) {
      await db.deleteFrom('sync_locks').where('source_id', '=', sourceId).where('owner', '=', owner).execute();
    },

    async get(sourceId) {
      const row = await db.selectFrom('sync_locks').selectAll().where('source_id', '=', sourceId).executeTakeFirst();
      return row === undefined ? null : toHolder(row);
    },

    async failAbandonedRuns(sourceId, runId, error, opts) {
      const r = await db
        .updateTable('sync_runs')
        .set({ status: 'failed', finished_at: isoNow(opts?.now), error })
        .where('source_id', '=', sourceId)
        .where('status', '=', 'running')
        .where('id', '<>', runId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
  };
  return repo;
}
