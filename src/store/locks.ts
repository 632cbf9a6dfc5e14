import { sql, type Kysely, type RawBuilder } from 'kysely';
import { AppError } from '../errors.ts';
import { isoNow, type StoreContext, type StoreDialect } from './context.ts';
import type { Database, SyncLocksTable } from './schema.ts';

/** Who holds a source's sync lock, as stored. */
export interface SyncLockHolder {
  owner: string;
  run_id: string | null;
  acquired_at: string | null;
  expires_at: string;
  /** The fencing token: bumped on every takeover. */
  fence: number;
}

/**
 * What a holder shows to write under its lock: the store refuses the write (AppError('conflict')) unless the lock row
 * still has this owner and token. Owners are unique per attempt, so the pair is never reused.
 */
export interface LockFence {
  sourceId: string;
  owner: string;
  token: number;
}

export type AcquireResult = { acquired: true; fence: LockFence } | { acquired: false; holder: SyncLockHolder };

/**
 * One sync per source at a time, across processes: a `sync_locks` row with an owner, a fencing token and an expiry.
 * The holder renews it while it runs; a holder that died (SIGKILL, power loss) stops renewing, and once the row has
 * expired the next run takes it over. Expiry is set and compared by the DATABASE's clock, never a process's, so
 * processes whose clocks disagree still agree on whether a lock has expired. Times are ISO-8601 UTC strings with
 * milliseconds, which sort as instants.
 */
export interface SyncLockRepository {
  /** Takes the lock when it is free or expired; otherwise reports who holds it. Atomic on both dialects. */
  acquire(sourceId: string, owner: string, ttlMs: number): Promise<AcquireResult>;
  /** Names the run holding the lock (for the "already syncing (run X)" message). False when no longer held. */
  setRun(sourceId: string, owner: string, runId: string): Promise<boolean>;
  /** Pushes the expiry out; false when the lock was lost (expired and taken over), so the run must stop. */
  renew(fence: LockFence, ttlMs: number): Promise<boolean>;
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
  return { owner: row.owner, run_id: row.run_id, acquired_at: row.acquired_at, expires_at: row.expires_at, fence: Number(row.fence) };
}

/** The database's clock, plus `plusMs`, as an ISO-8601 UTC string with milliseconds (the format of toISOString()). */
export function databaseNowIso(dialect: StoreDialect, plusMs = 0): RawBuilder<string> {
  const ms = Math.trunc(plusMs);
  if (dialect === 'sqlite') {
    // 'now' is the same for every use within one statement.
    return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${`${ms >= 0 ? '+' : ''}${ms / 1000} seconds`})`;
  }
  return sql<string>`to_char((statement_timestamp() at time zone 'UTC') + ${ms}::double precision * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * Inside a write's transaction: throws AppError('conflict') unless `fence` still holds the lock. On PostgreSQL the lock
 * row stays locked until the transaction ends, so a takeover waits for this write or this write sees the takeover.
 * (SQLite transactions are BEGIN IMMEDIATE: one writer at a time.)
 */
export async function assertLockHeld(trx: Kysely<Database>, dialect: StoreDialect, fence: LockFence): Promise<void> {
  let q = trx
    .selectFrom('sync_locks')
    .select('fence')
    .where('source_id', '=', fence.sourceId)
    .where('owner', '=', fence.owner)
    .where('fence', '=', fence.token);
  if (dialect === 'postgres') q = q.forUpdate();
  if ((await q.executeTakeFirst()) === undefined) {
    throw new AppError('conflict', 'the sync lock of this source was taken over by another run: nothing of this run is saved from here on');
  }
}

export function createSyncLockRepository(ctx: StoreContext): SyncLockRepository {
  const { db, dialect } = ctx;

  const repo: SyncLockRepository = {
    async acquire(sourceId, owner, ttlMs) {
      const now = databaseNowIso(dialect);
      const expiresAt = databaseNowIso(dialect, ttlMs);
      // One statement: insert, or take over a row whose holder let it expire (by the database's clock), bumping the
      // token. A live holder's row is left alone.
      await db
        .insertInto('sync_locks')
        .values({ source_id: sourceId, owner, run_id: null, acquired_at: now, expires_at: expiresAt, fence: 1 })
        .onConflict((oc) =>
          oc
            .column('source_id')
            .doUpdateSet({ owner, run_id: null, acquired_at: now, expires_at: expiresAt, fence: sql<number>`sync_locks.fence + 1` })
            .where('sync_locks.expires_at', '<=', now),
        )
        .execute();
      const row = await db.selectFrom('sync_locks').selectAll().where('source_id', '=', sourceId).executeTakeFirst();
      if (row !== undefined && row.owner === owner) return { acquired: true, fence: { sourceId, owner, token: Number(row.fence) } };
      // Released between our insert and our read: nobody holds it, but we did not get it either; the caller retries.
      return {
        acquired: false,
        holder: row === undefined ? { owner: '', run_id: null, acquired_at: null, expires_at: '', fence: 0 } : toHolder(row),
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

    async renew(fence, ttlMs) {
      const r = await db
        .updateTable('sync_locks')
        .set({ expires_at: databaseNowIso(dialect, ttlMs) })
        .where('source_id', '=', fence.sourceId)
        .where('owner', '=', fence.owner)
        .where('fence', '=', fence.token)
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
