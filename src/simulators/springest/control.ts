/**
 * Control routes under `/__sim/`: change a Springest host over time (as Springest's own staff and
 * back office would) and look at what certhub posted. Every certificate change stamps the
 * certificate's internal `updated_at` with the server clock; Springest itself serves no such field,
 * so certhub sees changes only through its periodic full read.
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute, readJsonObject } from '../common/server.ts';
import type { World } from '../common/world.ts';
import { springestError } from './api.ts';
import { addCertificate, dayNumber, isoSeconds, isVisible, NO_DAY, STATUSES, type SpringestHost } from './model.ts';
import { certificatePdf, presentCertificate } from './present.ts';
import type { SpringestUsers } from './users.ts';

type Body = Record<string, unknown>;

const readBody = (req: SimRequest): Body | null => readJsonObject(req);

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A day number, NO_DAY for null, undefined when malformed. */
const dayOrNull = (v: unknown): number | undefined => (v === null ? NO_DAY : typeof v === 'string' && DATE.test(v) && !Number.isNaN(Date.parse(v)) ? dayNumber(v) : undefined);
const statusIndex = (v: unknown): number => STATUSES.indexOf(v as (typeof STATUSES)[number]);

export function springestControlRoutes(world: World, host: SpringestHost, users: SpringestUsers): SimRoute[] {
  const t = host.certificates;
  const certificationIndex = (id: unknown): number => host.certifications.findIndex((c) => String(c.id) === String(id));
  /** Runs `fn` with the row of `:id`, or answers 404 (also for a removed certificate). */
  const withRow = (fn: (row: number, req: SimRequest) => SimResponse | Promise<SimResponse>) => (req: SimRequest): SimResponse | Promise<SimResponse> => {
    const row = /^\d+$/.test(req.params.id ?? '') ? t.rowOf(Number(req.params.id)) : -1;
    return row < 0 || t.removed[row] === 1 ? springestError(404, 'unknown certificate') : fn(row, req);
  };
  const describe = (row: number): Record<string, unknown> => {
    const posted = host.posted.get(row);
    return {
      ...presentCertificate(host, row),
      visible: isVisible(host, row),
      updated_at: isoSeconds(t.updatedAt[row] as number),
      person_key: host.users[t.user[row] as number]?.personKey ?? null,
      posted: posted ? { sha256: posted.sha256, bytes: posted.bytes, conversion_id: posted.conversion_id } : null,
    };
  };
  const setVerified = (req: SimRequest, verified: boolean): SimResponse => {
    const c = host.certifications[certificationIndex(req.params.id)];
    if (!c) return springestError(404, 'unknown certification');
    c.verified = verified;
    return jsonResponse(200, c);
  };

  return [
    { method: 'GET', path: '/keys', doc: 'Both keys of this host: api_key (certificates) and certifications_api_key.', handle: () => jsonResponse(200, { country: host.country, api_key: host.apiKey, certifications_api_key: host.certificationsKey }) },
    { method: 'GET', path: '/certifications', doc: 'Every certification, verified or not, with requires_valid_until and validity years.', handle: () => jsonResponse(200, host.certifications) },
    {
      method: 'POST',
      path: '/certifications/:id/verify',
      doc: 'Verify a certification (body {"verified": false} unverifies): its certificates show in / vanish from GET.',
      handle: (req) => setVerified(req, readBody(req)?.verified !== false),
    },
    { method: 'POST', path: '/certifications/:id/unverify', doc: 'Unverify a certification: its certificates vanish from GET.', handle: (req) => setVerified(req, false) },
    {
      method: 'PATCH',
      path: '/certifications/:id',
      doc: 'Change a certification: {"name"?, "description"?, "requires_valid_until"?}; the name is every certificate\'s title.',
      handle: (req) => {
        const b = readBody(req);
        const c = host.certifications[certificationIndex(req.params.id)];
        if (!c) return springestError(404, 'unknown certification');
        if (!b) return springestError(400, 'body must be a JSON object');
        if (typeof b.name === 'string' && b.name.trim() !== '') c.name = b.name;
        if (typeof b.description === 'string') c.description = b.description;
        if (typeof b.requires_valid_until === 'boolean') c.requires_valid_until = b.requires_valid_until;
        return jsonResponse(200, c);
      },
    },
    {
      method: 'POST',
      path: '/certificates',
      doc: 'Add a certificate as if Springest ingested one: {"person_key"|"email", "certification_id", "valid_from", "valid_until"?, "status"?}.',
      handle: (req) => {
        const b = readBody(req);
        if (!b) return springestError(400, 'body must be a JSON object');
        const certification = certificationIndex(b.certification_id);
        const c = host.certifications[certification];
        const validFrom = dayOrNull(b.valid_from);
        // Omitted valid_until: the certification's usual validity (none when it has no end).
        const validUntil = b.valid_until === undefined ? (c && c.years > 0 && validFrom !== undefined ? validFrom + c.years * 365 : NO_DAY) : dayOrNull(b.valid_until);
        const status = b.status === undefined ? 0 : statusIndex(b.status);
        const user = typeof b.person_key === 'string' ? users.forPerson(b.person_key) : typeof b.email === 'string' && b.email.includes('@') ? users.forEmail(b.email) : null;
        if (!c) return springestError(400, 'certification_id must be a known certification');
        if (validFrom === undefined || validFrom === NO_DAY || validUntil === undefined) return springestError(400, 'valid_from (YYYY-MM-DD) required; valid_until YYYY-MM-DD or null');
        if (validUntil === NO_DAY && c.requires_valid_until) return springestError(400, 'valid_until is required for this certification');
        if (status < 0) return springestError(400, `status must be one of ${STATUSES.join(', ')}`);
        if (user === null) return springestError(400, 'give a known person_key or an email');
        const row = addCertificate(host, { certification, user, validFrom, validUntil, status, createdAt: Math.floor(req.now.getTime() / 1000) * 1000 });
        return jsonResponse(201, describe(row));
      },
    },
    { method: 'GET', path: '/certificates/:id', doc: 'One certificate as served, plus visible, updated_at, person_key and the posted file info.', handle: withRow((row) => jsonResponse(200, describe(row))) },
    {
      method: 'PATCH',
      path: '/certificates/:id',
      doc: 'Change a certificate: {"valid_from"?, "valid_until"?, "status"? (approved|pending|rejected), "certification_id"?}.',
      handle: withRow((row, req) => {
        const b = readBody(req);
        if (!b) return springestError(400, 'body must be a JSON object');
        const from = b.valid_from === undefined ? t.validFrom[row] : dayOrNull(b.valid_from);
        const until = b.valid_until === undefined ? t.validUntil[row] : dayOrNull(b.valid_until);
        const status = b.status === undefined ? t.status[row] : statusIndex(b.status);
        const certification = b.certification_id === undefined ? t.certification[row] : certificationIndex(b.certification_id);
        if (from === undefined || from === NO_DAY || until === undefined) return springestError(400, 'valid_from must be YYYY-MM-DD; valid_until YYYY-MM-DD or null');
        if (status === undefined || status < 0) return springestError(400, `status must be one of ${STATUSES.join(', ')}`);
        if (certification === undefined || certification < 0) return springestError(400, 'certification_id must be a known certification');
        t.validFrom[row] = from;
        t.validUntil[row] = until;
        t.status[row] = status;
        t.certification[row] = certification;
        t.updatedAt[row] = req.now.getTime();
        return jsonResponse(200, describe(row));
      }),
    },
    {
      method: 'DELETE',
      path: '/certificates/:id',
      doc: 'Remove a certificate: it disappears from GET (Springest shows no deletion marker).',
      handle: withRow((row, req) => {
        t.removed[row] = 1;
        t.updatedAt[row] = req.now.getTime();
        return jsonResponse(200, { id: t.id[row], removed: true });
      }),
    },
    {
      method: 'GET',
      path: '/certificates/:id/pdf',
      doc: 'The certificate\'s PDF: the posted bytes, or one generated on demand (Springest\'s API serves no file).',
      handle: withRow((row) => ({ status: 200, headers: { 'content-type': 'application/pdf' }, body: certificatePdf(world, host, row) })),
    },
    {
      method: 'GET',
      path: '/posted',
      doc: 'Certificates posted through the API, in order, visible or not, with the PDF sha256, byte length and conversion_id.',
      handle: () =>
        jsonResponse(
          200,
          [...host.posted.entries()].map(([row, p]) => ({ ...presentCertificate(host, row), visible: isVisible(host, row), removed: t.removed[row] === 1, file: { sha256: p.sha256, bytes: p.bytes, conversion_id: p.conversion_id } })),
        ),
    },
  ];
}
