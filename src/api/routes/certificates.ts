/** Certificates: filtered lists, one certificate, its history (all read, also as of an instant), and its PDF. */
import { z } from 'zod';
import { ACHIEVEMENT_TYPES, CERTIFICATE_STATUSES, VALIDITIES, type Certificate } from '../../domain/certificate.ts';
import { normalizeEmail } from '../../domain/identity.ts';
import { AppError } from '../../errors.ts';
import { isCertificateCursor, type CertificateFilter } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import {
  asOfQuery,
  certificateSchema,
  cursorQuery,
  dateSchema,
  idParams,
  instantSchema,
  limitQuery,
  listQuery,
  listQueryOf,
  providerIdInput,
  pageSchema,
} from '../schemas.ts';
import { serveCertificateFile } from './certificate-file.ts';

const TAG = 'certificates';

/** Source slugs ([a-z0-9-], as configured): repeated or comma-separated like the other list filters. */
const sourceSlugsQuery = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== ''))
  .pipe(z.array(z.string().max(100)).max(50))
  .optional()
  .describe('Source id (slug) as configured; may repeat');

const text = (description: string) => z.string().trim().min(1).max(500).optional().describe(description);

export const listCertificatesQuery = z.object({
  person: z.string().min(1).max(200).optional().describe('Person id: only certificates linked to that person'),
  email: z
    .string()
    .trim()
    .max(320)
    .refine((v) => normalizeEmail(v) !== null, 'must be an email address')
    .optional()
    .describe('Certificates of the person(s) holding this email identity'),
  source: sourceSlugsQuery,
  provider: listQueryOf(providerIdInput, 'Provider; may repeat'),
  status: listQuery(CERTIFICATE_STATUSES, 'Stored status; may repeat'),
  validity: listQuery(VALIDITIES, 'Validity today in Europe/Oslo (or at as_of); may repeat'),
  achievement_type: z.enum(ACHIEVEMENT_TYPES).optional().describe('Achievement type'),
  achievement: text("The achievement's external id at its provider"),
  achievement_code: text("The achievement's code, e.g. SAFE-101"),
  issued_from: instantSchema.optional().describe('issued_at at or after this instant'),
  issued_before: instantSchema.optional().describe('issued_at before this instant'),
  valid_until_from: dateSchema.optional().describe('valid_until on or after this date (YYYY-MM-DD)'),
  valid_until_before: dateSchema.optional().describe('valid_until before this date (YYYY-MM-DD)'),
  updated_since: instantSchema.optional().describe('updated_at at or after this instant'),
  limit: limitQuery,
  cursor: cursorQuery.refine((c) => c === undefined || isCertificateCursor(c), 'must be a next_cursor this server returned'),
  as_of: asOfQuery,
});

export const certificateVersionSchema = z
  .object({
    version: z.number().int().describe('1 is the certificate as first seen'),
    recorded_at: z.string().describe('When certhub stored this version'),
    status: z.enum(CERTIFICATE_STATUSES),
    subject: certificateSchema.shape.subject,
    achievement: certificateSchema.shape.achievement,
    issued_at: z.string().nullable(),
    valid_from: z.string().nullable(),
    valid_until: z.string().nullable(),
    serial: z.string().nullable(),
    file: z.object({ available: z.boolean() }),
    raw: z.unknown().describe("The provider's payload as stored (national ids and download tokens taken out)"),
  })
  .describe('A certificate as it was recorded at one time');

export function registerCertificateRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;

  /** Validity now, or everything as it was at `asOf`. */
  const readOptions = (asOf: string | undefined) => (asOf === undefined ? { now: deps.now() } : { asOf });

  async function certificateOr404(tenantId: string, id: string, asOf?: string): Promise<Certificate> {
    const cert = await store.certificates.getCertificate(tenantId, id, readOptions(asOf));
    if (cert === null) {
      throw new AppError('not_found', asOf === undefined ? `certificate ${id} not found` : `certificate ${id} not found as of ${asOf}`);
    }
    return cert;
  }

  table.add({
    method: 'GET',
    url: '/v1/certificates',
    operationId: 'listCertificates',
    summary: 'Certificates, filtered, in a stable order (updated_at, id)',
    description:
      'Every filter is optional and they combine (AND); a filter that may repeat matches any of its values. ' +
      'With `as_of`, each certificate is shown as certhub stored it at that instant, the filters apply to those values, ' +
      'and certificates first seen later are absent.',
    tag: TAG,
    access: 'read',
    query: listCertificatesQuery,
    responses: { 200: { description: 'One page; pass next_cursor as ?cursor= (with the same filters) for the next', schema: pageSchema(certificateSchema) } },
    async handler({ caller, query }) {
      const tenantId = caller!.tenantId;
      const filter: CertificateFilter = {};
      if (query.source !== undefined) {
        const ids: string[] = [];
        for (const slug of new Set(query.source)) {
          const source = await store.sources.getSourceBySlug(tenantId, slug);
          if (source === null) throw new AppError('invalid_request', `query.source: no source "${slug}"`);
          ids.push(source.id);
        }
        filter.source_ids = ids;
      }
      if (query.email !== undefined) {
        const people = await store.people.findPeopleByIdentity(tenantId, 'email', normalizeEmail(query.email) ?? query.email);
        filter.person_ids = people.map((p) => p.id);
      }
      if (query.person !== undefined) filter.person_id = query.person;
      if (query.provider !== undefined) filter.providers = query.provider;
      if (query.status !== undefined) filter.statuses = query.status;
      if (query.validity !== undefined) filter.validities = query.validity;
      if (query.achievement_type !== undefined) filter.achievement_type = query.achievement_type;
      if (query.achievement !== undefined) filter.achievement_external_id = query.achievement;
      if (query.achievement_code !== undefined) filter.achievement_code = query.achievement_code;
      if (query.issued_from !== undefined) filter.issued_from = query.issued_from;
      if (query.issued_before !== undefined) filter.issued_before = query.issued_before;
      if (query.valid_until_from !== undefined) filter.valid_until_from = query.valid_until_from;
      if (query.valid_until_before !== undefined) filter.valid_until_before = query.valid_until_before;
      if (query.updated_since !== undefined) filter.updated_since = query.updated_since;
      return store.certificates.listCertificates(
        tenantId,
        filter,
        { ...(query.limit === undefined ? {} : { limit: query.limit }), ...(query.cursor === undefined ? {} : { cursor: query.cursor }) },
        readOptions(query.as_of),
      );
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/certificates/:id',
    operationId: 'getCertificate',
    summary: 'One certificate (now, or as of an instant)',
    tag: TAG,
    access: 'read',
    params: idParams,
    query: z.object({ as_of: asOfQuery }),
    errors: [404],
    responses: { 200: { description: 'The certificate', schema: certificateSchema } },
    async handler({ caller, params, query }) {
      return certificateOr404(caller!.tenantId, params.id, query.as_of);
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/certificates/:id/history',
    operationId: 'getCertificateHistory',
    summary: 'Every stored version of a certificate, oldest first',
    tag: TAG,
    access: 'read',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The versions', schema: z.object({ items: z.array(certificateVersionSchema) }) } },
    async handler({ caller, params }) {
      const tenantId = caller!.tenantId;
      await certificateOr404(tenantId, params.id);
      const versions = await store.certificates.listCertificateVersions(tenantId, params.id);
      // Named fields only: whatever else a version row may carry later stays out of the answer.
      return {
        items: versions.map((v) => ({
          version: v.version,
          recorded_at: v.recorded_at,
          status: v.status,
          subject: v.subject,
          achievement: v.achievement,
          issued_at: v.issued_at,
          valid_from: v.valid_from,
          valid_until: v.valid_until,
          serial: v.serial,
          file: v.file,
          raw: v.raw,
        })),
      };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/certificates/:id/file',
    operationId: 'getCertificateFile',
    summary: "The certificate's PDF",
    description:
      'The first request fetches the file from the provider and archives it (content-addressed by sha256); later ' +
      'requests are served from the archive without asking the provider. ETag is the sha256; If-None-Match answers 304.',
    tag: TAG,
    access: 'read',
    params: idParams,
    errors: [404, 502],
    responses: {
      200: { description: 'The PDF', binary: 'application/pdf' },
      304: { description: 'Unchanged: the ETag sent in If-None-Match is still the file' },
    },
    async handler({ caller, params, request, reply }) {
      const cert = await certificateOr404(caller!.tenantId, params.id);
      return serveCertificateFile({ deps, tenantId: caller!.tenantId, cert, request, reply });
    },
  });
}
