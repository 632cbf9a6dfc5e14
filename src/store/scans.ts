import type { StoreContext } from './context.ts';
import { assertLockHeld, type LockFence } from './locks.ts';

export interface SyncScan {
  started_at: string;
  run_id: string;
}

/**
 * Full-scan bookkeeping: when the scan now in progress began. A scan interrupted by a crash is resumed by a later run
 * from the checkpoint; its sweep must compare against the scan's start, or what the first run saw would look unseen.
 */
export interface SyncScanRepository {
  get(sourceId: string): Promise<SyncScan | null>;
  /** Records that a new scan starts now (replacing any earlier one). With `fence`, only while that lock is held. */
  begin(sourceId: string, scan: SyncScan, opts?: { fence?: LockFence }): Promise<void>;
  /** The scan is complete and swept. With `fence`, only while that lock is held. */
  end(sourceId: string, opts?: { fence?: LockFence }): Promise<void>;
}

export function createSyncScanRepository(ctx: StoreContext): SyncScanRepository {
  const { db } = ctx;
  return {
    async get(sourceId) {
      const row = await db
        .selectFrom('sync_scans')
        .select(['started_at', 'run_id'])
        .where('source_id', '=', sourceId)
        .executeTakeFirst();
      return row ?? null;
    },
    async begin(sourceId, scan, opts) {
      await db.transaction().execute(async (trx) => {
        if (opts?.fence !== undefined) await assertLockHeld(trx, ctx.dialect, opts.fence);
        await trx
          .insertInto('sync_scans')
          .values({ source_id: sourceId, ...scan })
          .onConflict((oc) => oc.column('source_id').doUpdateSet(scan))
          .execute();
      });
    },
    async end(sourceId, opts) {
      await db.transaction().execute(async (trx) => {
        if (opts?.fence !== undefined) await assertLockHeld(trx, ctx.dialect, opts.fence);
        await trx.deleteFrom('sync_scans').where('source_id', '=', sourceId).execute();
      });
    },
  };
}
