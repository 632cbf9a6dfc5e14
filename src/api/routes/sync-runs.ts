/**
 * Sync runs of the tenant's sources: the list, and one run with its full report (requests by endpoint, 429s,
 * retries, warnings, error).
 */
import { z } from 'zod';
import { isRecord } from '../../config/problems.ts';
import { AppError } from '../../errors.ts';
import type { TenantSyncRun } from '../../store/index.ts';
import type { SyncReport } from '../../sync/report.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { runDetailSchema, runSummarySchema, runWarningSchema, type RunDetail, type RunSummary, type RunWarningView } from '../run-view.ts';
import { cursorQuery, idParams, limitQuery } from '../schemas.ts';

function isReport(value: unknown): value is SyncReport {
  return isRecord(value) && typeof value.status === 'string' && isRecord(value.certificates);
}

/** A stored report's warnings: reports stored before runs had warnings have none, and an entry not of the shape is left out. */
function warningsOf(report: SyncReport | null): RunWarningView[] {
  const stored: unknown = report?.warnings;
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((w) => {
    const parsed = runWarningSchema.safeParse(w);
    return parsed.success ? [parsed.data] : [];
  });
}

export function runSummary(run: TenantSyncRun): RunSummary {
  const report = isReport(run.report) ? run.report : null;
  const error = report?.error ?? (run.error === null ? null : { code: null, message: run.error });
  return {
    id: run.id,
    source: run.source,
    provider: run.provider,
    status: run.status,
    started_at: run.started_at,
    finished_at: run.finished_at,
    duration_ms: report?.duration_ms ?? null,
    pages: report?.pages ?? null,
    certificates: report?.certificates ?? null,
    warnings: warningsOf(report),
    error,
  };
}

function runDetail(run: TenantSyncRun): RunDetail {
  const report = isReport(run.report) ? run.report : null;
  return {
    ...runSummary(run),
    requests_by_endpoint: report?.requests_by_endpoint ?? {},
    throttled_429: report?.throttled_429 ?? 0,
    retries: report?.retries ?? 0,
  };
}

export function registerSyncRunRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;

  table.add({
    method: 'GET',
    url: '/v1/sync-runs',
    operationId: 'listSyncRuns',
    summary: "Sync runs of the tenant's sources, newest first",
    tag: 'sources',
    access: 'read',
    query: z.object({
      source: z.string().max(200).optional().describe('Only this source id (slug)'),
      status: z.enum(['running', 'succeeded', 'failed']).optional(),
      limit: limitQuery,
      cursor: cursorQuery,
    }),
    responses: {
      200: {
        description: 'A page',
        schema: z.object({ items: z.array(runSummarySchema), next_cursor: z.string().nullable() }),
      },
    },
    async handler({ caller, query }) {
      const tenantId = caller!.tenantId;
      let sourceId: string | undefined;
      if (query.source !== undefined) {
        const source = await store.sources.getSourceBySlug(tenantId, query.source);
        if (source === null) return { items: [], next_cursor: null };
        sourceId = source.id;
      }
      const page = await store.sync.listTenantRuns(tenantId, {
        ...(sourceId === undefined ? {} : { sourceId }),
        ...(query.status === undefined ? {} : { status: query.status }),
        limit: query.limit ?? 50,
        cursor: query.cursor ?? null,
      });
      return { items: page.items.map(runSummary), next_cursor: page.next_cursor };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/sync-runs/:id',
    operationId: 'getSyncRun',
    summary: 'One sync run with its full report (requests by endpoint, 429s, retries, warnings, error)',
    tag: 'sources',
    access: 'read',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The run', schema: runDetailSchema } },
    async handler({ caller, params }) {
      const run = await store.sync.getTenantRun(caller!.tenantId, params.id);
      if (run === null) throw new AppError('not_found', `sync run ${params.id} not found`);
      return runDetail(run);
    },
  });
}
