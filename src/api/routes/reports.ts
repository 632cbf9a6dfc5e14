/** Reports: the certificates that count today and end within the next N days, as JSON pages or CSV. */
import { z } from 'zod';
import { createComplianceService, type ExpiringItem } from '../../compliance/index.ts';
import type { Certificate } from '../../domain/certificate.ts';
import { csvRecord } from '../../csv.ts';
import { chargeExportRows, sendCsv, wantsCsv } from '../csv-answer.ts';
import { QUOTA_COSTS } from '../key-quota.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { certificateSchema, cursorQuery, formatQuery, idSchema, intQuery, limitQuery, providerIdInput } from '../schemas.ts';
import { requirementOr404 } from './requirements.ts';

const TAG = 'requirements';
const DEFAULT_LIMIT = 100;

const expiringQuery = z.object({
  days: intQuery({ min: 1, max: 3650, description: 'The window in days from today (default 30)' }).optional(),
  requirement: idSchema.optional().describe('Only certificates satisfying this requirement (its fallback end applies)'),
  source: z.string().min(1).max(100).optional().describe('Only this source (its id/slug)'),
  provider: providerIdInput.optional(),
  limit: limitQuery,
  cursor: cursorQuery,
  format: formatQuery,
});

const expiringItemSchema = z.object({
  valid_until: z.string().describe('The last day it counts: valid_until, else start + the requirement fallback'),
  days_left: z.number().describe('Days from today to valid_until (0: ends today)'),
  person: z.object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable() }).nullable(),
  certificate: certificateSchema,
});

const EXPIRING_CSV_HEADER = [
  'valid_until',
  'days_left',
  'person_id',
  'name',
  'email',
  'certificate_id',
  'source',
  'provider',
  'achievement_type',
  'achievement_external_id',
  'achievement_code',
  'achievement_title',
  'issued_at',
] as const;

function expiringCsvRecord(item: ExpiringItem): string {
  const c: Certificate = item.certificate;
  return csvRecord([
    item.valid_until,
    item.days_left,
    item.person?.id,
    item.person?.name,
    item.person?.email,
    c.id,
    c.source,
    c.provider,
    c.achievement.type,
    c.achievement.external_id,
    c.achievement.code,
    c.achievement.title,
    c.issued_at,
  ]);
}

export function registerReportRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;
  const compliance = createComplianceService({ store, now: deps.now });
  const requirementOf = (tenantId: string, id: string) => requirementOr404(store, tenantId, id);

  table.add({
    method: 'GET',
    url: '/v1/reports/expiring',
    operationId: 'getExpiringReport',
    summary: 'Certificates that count today and end within the next N days, soonest first',
    description:
      'Awarded, started certificates whose last day (valid_until; for a `requirement`, else start + its ' +
      'valid_months_without_end) is from today to today + days. Without a requirement only certificates with an ' +
      'end date are listed. JSON is cursor-paginated; CSV is the whole list.',
    tag: TAG,
    access: 'read',
    query: expiringQuery,
    errors: [404],
    responses: {
      200: {
        description: 'The report',
        schema: z.object({
          from: z.string().describe('Today (the first day of the window)'),
          to: z.string().describe('The last day of the window'),
          items: z.array(expiringItemSchema),
          next_cursor: z.string().nullable(),
        }),
        alternatives: { 'text/csv': `One row per certificate: ${EXPIRING_CSV_HEADER.join(', ')}` },
      },
    },
    async handler({ caller, query, request, reply, spend }) {
      const tenantId = caller!.tenantId;
      const report = {
        days: query.days ?? 30,
        ...(query.requirement === undefined ? {} : { requirement: await requirementOf(tenantId, query.requirement) }),
        ...(query.source === undefined ? {} : { source: query.source }),
        ...(query.provider === undefined ? {} : { provider: query.provider }),
      };
      if (wantsCsv(request)) {
        const { from, to, batches } = compliance.expiringRows(tenantId, report);
        return sendCsv(reply, `expiring-${from}-to-${to}.csv`, EXPIRING_CSV_HEADER, batches, expiringCsvRecord, chargeExportRows(spend, QUOTA_COSTS.exportRowsPerUnit));
      }
      return compliance.expiringPage(tenantId, { ...report, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor ?? null });
    },
  });
}
