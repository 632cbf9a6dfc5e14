import type { Kysely } from 'kysely';
import type { ProviderId } from '../domain/certificate.ts';
import { AppError } from '../errors.ts';
import type { NewEvent } from '../outbound/catalog.ts';
import { recordEvents } from './events.ts';
import { canonicalJson, isoNow, parseJson, type StoreContext } from './context.ts';
import { decodeKeyCursor, encodeKeyCursor } from './cursor.ts';
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

/** A run as a tenant sees it: with its source's slug and provider. */
export interface TenantSyncRun extends SyncRun {
  source: string;
  provider: ProviderId;
}

export interface TenantRunQuery {
  /** Hub id of one of the tenant's sources. */
  sourceId?: string;
  status?: SyncRunStatus;
  /** Default 50, at most 1000. */
  limit?: number;
  /** next_cursor of the previous page. */
  cursor?: string | null;
}

export interface TenantRunPage {
  items: TenantSyncRun[];
  next_cursor: string | null;
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
  /** The runs of the tenant's sources, newest first, cursor-paginated. */
  listTenantRuns(tenantId: string, query?: TenantRunQuery): Promise<TenantRunPage>;
  /** Null when the run is unknown or belongs to another tenant's source. */
  getTenantRun(tenantId: string, runId: string): Promise<TenantSyncRun | null>;
}

/** Tags the run list's cursors, (started_at, id) in descending order, so another list's cursor is refused here. */
const RUN_CURSOR = 'sync-runs';

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

function toTenantRun(row: SyncRunsTable & { source: string; provider: string }): TenantSyncRun {
  return { ...toRun(row), source: row.source, provider: row.provider };
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

/** sync.finished / sync.failed: the run's ids and, from its report, the certificate counts and warnings. */
function syncEvent(
  runId: string,
  source: { source_id: string; slug: string; provider: string },
  result: { status: 'succeeded' | 'failed'; report?: unknown; error?: string | null },
  now: string,
): NewEvent {
  const report = (result.report ?? {}) as { certificates?: unknown; pages?: unknown; warnings?: unknown };
  return {
    type: result.status === 'succeeded' ? 'sync.finished' : 'sync.failed',
    occurred_at: now,
    data: {
      run_id: runId,
      source_id: source.source_id,
      source: source.slug,
      provider: source.provider,
      status: result.status,
      pages: typeof report.pages === 'number' ? report.pages : null,
      certificates: report.certificates ?? null,
      warnings: Array.isArray(report.warnings) ? report.warnings : [],
      error: result.error ?? null,
    },
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
      const now = isoNow(opts?.now);
      await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('sync_runs')
          .innerJoin('sources', 'sources.id', 'sync_runs.source_id')
          .select(['sync_runs.status', 'sources.tenant_id', 'sources.slug', 'sources.provider', 'sync_runs.source_id'])
          .where('sync_runs.id', '=', runId)
          .executeTakeFirst();
        if (before === undefined) throw new AppError('not_found', `sync run ${runId} not found`);
        await trx
          .updateTable('sync_runs')
          .set({
            status: result.status,
            finished_at: now,
            report_json: result.report === undefined ? null : canonicalJson(result.report),
            error: result.error ?? null,
          })
          .where('id', '=', runId)
          .execute();
        // Once per run: finishing it again (a retried write whose first commit went through) tells nobody twice.
        if (before.status === 'running') {
          await recordEvents(ctx, trx, before.tenant_id, [syncEvent(runId, before, result, now)], now);
        }
      });
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
    async listTenantRuns(tenantId, query) {
      const limit = Math.min(Math.max(query?.limit ?? 50, 1), 1000);
      let q = selectTenantRuns(tenantId);
      if (query?.sourceId !== undefined) q = q.where('r.source_id', '=', query.sourceId);
      if (query?.status !== undefined) q = q.where('r.status', '=', query.status);
      if (query?.cursor != null) {
        const after = decodeKeyCursor(RUN_CURSOR, query.cursor);
        q = q.where((eb) =>
          eb.or([
            eb('r.started_at', '<', after.key),
            eb.and([eb('r.started_at', '=', after.key), eb('r.id', '<', after.id)]),
          ]),
        );
      }
      const rows = await q.orderBy('r.started_at', 'desc').orderBy('r.id', 'desc').limit(limit + 1).execute();
      const items = rows.slice(0, limit).map(toTenantRun);
      const last = items[items.length - 1];
      return { items, next_cursor: rows.length > limit && last !== undefined ? encodeKeyCursor(RUN_CURSOR, { key: last.started_at, id: last.id }) : null };
    },
    async getTenantRun(tenantId, runId) {
      const row = await selectTenantRuns(tenantId).where('r.id', '=', runId).executeTakeFirst();
      return row === undefined ? null : toTenantRun(row);
    },
  };
  const selectTenantRuns = (tenantId: string) =>
    db
      .selectFrom('sync_runs as r')
      .innerJoin('sources as s', 's.id', 'r.source_id')
      .selectAll('r')
      .select(['s.slug as source', 's.provider as provider'])
      .where('s.tenant_id', '=', tenantId);
  return repo;
}
