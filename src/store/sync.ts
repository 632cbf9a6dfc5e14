import type { Kysely } from 'kysely';
import { AppError } from '../errors.ts';
import { canonicalJson, isoNow, parseJson, type StoreContext } from './context.ts';
import type { Database, SyncRunsTable } from './schema.ts';

export type SyncRunStatus = 'running' | 'succeeded' | 'failed';

export interface SyncRun {
  id: string;
  source_id: string;
  status: SyncRunStatus;
  started_at: string;
  finished_at: string | null;
  report: unknown;
  error: string | null;
}

export interface SyncRepository {
  /** The checkpoint stored with the last saved page, or null. */
  getCheckpoint(sourceId: string): Promise<unknown>;
  /** Sets the checkpoint outside a page (null clears it, e.g. to start the next full scan from the top). */
  setCheckpoint(sourceId: string, checkpoint: unknown, opts?: { now?: Date }): Promise<void>;
  startRun(sourceId: string, opts?: { now?: Date }): Promise<SyncRun>;
  finishRun(
    runId: string,
    result: { status: 'succeeded' | 'failed'; report?: unknown; error?: string | null },
    opts?: { now?: Date },
  ): Promise<SyncRun>;
  getRun(runId: string): Promise<SyncRun | null>;
  /** Newest first. */
  listRuns(query?: { sourceId?: string; limit?: number }): Promise<SyncRun[]>;
}

/** Used by savePage inside its transaction, and by setCheckpoint. */
export async function writeCheckpoint(
  db: Kysely<Database>,
  sourceId: string,
  checkpoint: unknown,
  now: string,
): Promise<void> {
  if (checkpoint === null || checkpoint === undefined) {
    await db.deleteFrom('sync_checkpoints').where('source_id', '=', sourceId).execute();
    return;
  }
  const checkpointJson = canonicalJson(checkpoint);
  await db
    .insertInto('sync_checkpoints')
    .values({ source_id: sourceId, checkpoint_json: checkpointJson, updated_at: now })
    .onConflict((oc) => oc.column('source_id').doUpdateSet({ checkpoint_json: checkpointJson, updated_at: now }))
    .execute();
}

function toRun(row: SyncRunsTable): SyncRun {
  return {
    id: row.id,
    source_id: row.source_id,
    status: row.status as SyncRunStatus,
    started_at: row.started_at,
    finished_at: row.finished_at,
    report: parseJson(row.report_json),
    error: row.error,
  };
}

export function createSyncRepository(ctx: StoreContext): SyncRepository {
  const { db } = ctx;
  const repo: SyncRepository = {
    async getCheckpoint(sourceId) {
      const row = await db
        .selectFrom('sync_checkpoints')
        .select('checkpoint_json')
        .where('source_id', '=', sourceId)
        .executeTakeFirst();
      return row === undefined ? null : parseJson(row.checkpoint_json);
    },
    async setCheckpoint(sourceId, checkpoint, opts) {
      await writeCheckpoint(db, sourceId, checkpoint, isoNow(opts?.now));
    },
    async startRun(sourceId, opts) {
      const row: SyncRunsTable = {
        id: ctx.newId(),
        source_id: sourceId,
        status: 'running',
        started_at: isoNow(opts?.now),
        finished_at: null,
        report_json: null,
        error: null,
      };
      await db.insertInto('sync_runs').values(row).execute();
      return toRun(row);
    },
    async finishRun(runId, result, opts) {
      const update = await db
        .updateTable('sync_runs')
        .set({
          status: result.status,
          finished_at: isoNow(opts?.now),
          report_json: result.report === undefined ? null : canonicalJson(result.report),
          error: result.error ?? null,
        })
        .where('id', '=', runId)
        .executeTakeFirst();
      if (update.numUpdatedRows === 0n) throw new AppError('not_found', `sync run ${runId} not found`);
      const run = await repo.getRun(runId);
      if (run === null) throw new AppError('not_found', `sync run ${runId} not found`);
      return run;
    },
    async getRun(runId) {
      const row = await db.selectFrom('sync_runs').selectAll().where('id', '=', runId).executeTakeFirst();
      return row === undefined ? null : toRun(row);
    },
    async listRuns(query) {
      let q = db.selectFrom('sync_runs').selectAll();
      if (query?.sourceId !== undefined) q = q.where('source_id', '=', query.sourceId);
      const limit = Math.min(Math.max(query?.limit ?? 50, 1), 1000);
      const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toRun);
    },
  };
  return repo;
}
