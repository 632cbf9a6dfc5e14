/** Who complies with a requirement: every person's state, as a cursor-paginated table or the whole table as CSV. */
import { z } from 'zod';
import { createComplianceService, type ComplianceRow } from '../../compliance/index.ts';
import { COMPLIANCE_STATES } from '../../domain/requirement.ts';
import { csvRecord } from '../../csv.ts';
import { chargeExportRows, sendCsv, wantsCsv } from '../csv-answer.ts';
import { QUOTA_COSTS } from '../key-quota.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { asOfQuery, certificateSchema, cursorQuery, formatQuery, idParams, limitQuery, listQuery } from '../schemas.ts';
import { requirementOr404 } from './requirements.ts';

const TAG = 'requirements';
const DEFAULT_LIMIT = 100;

const personFields = {
  person_id: z.string(),
  name: z.string().nullable().describe("The person's display name"),
  email: z.string().nullable().describe('The primary email (the first one recorded)'),
};

const complianceItemSchema = z.object({
  ...personFields,
  state: z.enum(COMPLIANCE_STATES),
  valid_until: z.string().nullable().describe('The last day the proving certificate counts (null: no end, or missing)'),
  certificate: z
    .object({
      id: z.string(),
      source: z.string(),
      achievement: certificateSchema.shape.achievement,
      issued_at: z.string().nullable(),
      valid_until: z.string().nullable().describe("The certificate's own end date"),
    })
    .nullable()
    .describe('The certificate that proves it; null when missing'),
});

const summarySchema = z.object({
  compliant: z.number(),
  expiring: z.number(),
  expired: z.number(),
  missing: z.number(),
  total: z.number().describe('Every person counted (after q, before state)'),
});

const complianceQuery = z.object({
  state: listQuery(COMPLIANCE_STATES, 'Only people in these states (repeat or comma-separate)'),
  q: z.string().trim().max(200).optional().describe('Only people whose name or an email contains this'),
  as_of: asOfQuery,
  limit: limitQuery,
  cursor: cursorQuery,
  format: formatQuery,
});

const COMPLIANCE_CSV_HEADER = [
  'person_id',
  'name',
  'email',
  'state',
  'valid_until',
  'certificate_id',
  'source',
  'achievement_code',
  'achievement_title',
  'issued_at',
] as const;

function complianceItem(row: ComplianceRow): z.output<typeof complianceItemSchema> {
  const c = row.certificate;
  return {
    person_id: row.person.id,
    name: row.person.name,
    email: row.person.email,
    state: row.state,
    valid_until: row.valid_until,
    certificate:
      c === null ? null : { id: c.id, source: c.source, achievement: c.achievement, issued_at: c.issued_at, valid_until: c.valid_until },
  };
}

function complianceCsvRecord(row: ComplianceRow): string {
  const c = row.certificate;
  return csvRecord([
    row.person.id,
    row.person.name,
    row.person.email,
    row.state,
    row.valid_until,
    c?.id,
    c?.source,
    c?.achievement.code,
    c?.achievement.title,
    c?.issued_at,
  ]);
}

/** A file name safe in a header: lower-case letters, digits and dashes only. */
function fileSlug(text: string): string {
  return (
    text
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'requirement'
  );
}

export function registerComplianceRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;
  const compliance = createComplianceService({ store, now: deps.now });
  const requirementOf = (tenantId: string, id: string) => requirementOr404(store, tenantId, id);

  table.add({
    method: 'GET',
    url: '/v1/requirements/:id/compliance',
    operationId: 'getRequirementCompliance',
    summary: "Every person's standing against a requirement: compliant, expiring, expired or missing",
    description:
      'People merged into another are not listed. JSON is cursor-paginated in person-id order with a summary of the ' +
      'whole table; CSV (`Accept: text/csv` or `?format=csv`) is the whole table after the filters. With `as_of`, ' +
      'the standing then, from the stored certificate versions (people created later are left out).',
    tag: TAG,
    access: 'read',
    params: idParams,
    query: complianceQuery,
    errors: [404],
    responses: {
      200: {
        description: 'The compliance table',
        schema: z.object({
          requirement: z.object({ id: z.string(), name: z.string() }),
          as_of: z.string().describe('The instant the states are computed for'),
          summary: summarySchema,
          items: z.array(complianceItemSchema),
          next_cursor: z.string().nullable(),
        }),
        alternatives: { 'text/csv': `One row per person: ${COMPLIANCE_CSV_HEADER.join(', ')}` },
      },
    },
    async handler({ caller, params, query, request, reply, spend }) {
      const tenantId = caller!.tenantId;
      const requirement = await requirementOf(tenantId, params.id);
      const filters = {
        ...(query.as_of === undefined ? {} : { asOf: query.as_of }),
        ...(query.state === undefined ? {} : { states: query.state }),
        ...(query.q === undefined ? {} : { q: query.q }),
      };
      if (wantsCsv(request)) {
        const { at, batches } = compliance.complianceRows(tenantId, requirement, filters);
        const filename = `compliance-${fileSlug(requirement.name)}-${at.slice(0, 10)}.csv`;
        return sendCsv(reply, filename, COMPLIANCE_CSV_HEADER, batches, complianceCsvRecord, chargeExportRows(spend, QUOTA_COSTS.exportRowsPerUnit));
      }
      const page = await compliance.compliancePage(tenantId, requirement, {
        ...filters,
        limit: query.limit ?? DEFAULT_LIMIT,
        cursor: query.cursor ?? null,
      });
      return {
        requirement: { id: requirement.id, name: requirement.name },
        as_of: page.at,
        summary: page.summary,
        items: page.items.map(complianceItem),
        next_cursor: page.next_cursor,
      };
    },
  });
}
