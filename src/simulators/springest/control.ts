/** Control routes under `/__sim/`: change a Springest host's certificates and certifications over time. */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { World } from '../common/world.ts';
import { presentCertificate, springestError } from './api.ts';
import { addSpringestCertificate, type SpringestHost } from './model.ts';

function body(req: SimRequest): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(req.body.toString('utf8') || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const dateOrNull = (v: unknown): string | null | undefined => (v === null ? null : typeof v === 'string' && DATE.test(v) ? v : undefined);

export function springestControlRoutes(host: SpringestHost, world: World, clock: () => Date): SimRoute[] {
  const certIndex = (req: SimRequest): number => host.byId.get(Number(req.params.id)) ?? -1;
  const certificationIndex = (id: unknown): number => host.certifications.findIndex((c) => String(c.id) === String(id));
  const userFor = (b: Record<string, unknown>): number | string => {
    if (typeof b.person_key === 'string') {
      const existing = host.users.findIndex((u) => u.personKey === b.person_key);
      if (existing >= 0) return existing;
      const wp = world.people.find((p) => p.key === b.person_key);
      if (!wp) return `unknown person_key ${b.person_key}`;
      return host.users.push({ email: world.emailFor(wp, 'springest'), external_id: `E${10000 + wp.index}`, personKey: wp.key }) - 1;
    }
    if (typeof b.email === 'string' && b.email.includes('@')) {
      const existing = host.users.findIndex((u) => u.email.trim().toLowerCase() === String(b.email).trim().toLowerCase());
      if (existing >= 0) return existing;
      return host.users.push({ email: b.email, external_id: `E${90000 + host.users.length}`, personKey: `new:${b.email.toLowerCase()}` }) - 1;
    }
    return 'give person_key or email';
  };
  const withCert = (fn: (i: number, req: SimRequest) => SimResponse) => (req: SimRequest): SimResponse => {
    const i = certIndex(req);
    return i < 0 || host.certificates[i]?.removed ? springestError(404, 'unknown certificate') : fn(i, req);
  };
  return [
    { method: 'GET', path: '/keys', doc: 'The api_key and the certifications api_key of this host.', handle: () => jsonResponse(200, { country: host.country, api_key: host.apiKey, certifications_api_key: host.certificationsKey }) },
    { method: 'GET', path: '/certifications', doc: 'Every certification, verified or not.', handle: () => jsonResponse(200, host.certifications) },
    {
      method: 'POST',
      path: '/certifications/:id/verify',
      doc: 'Verify (or with {"verified": false} unverify) a certification: its certificates become visible to GET.',
      handle: (req) => {
        const c = host.certifications[certificationIndex(req.params.id)];
        if (!c) return springestError(404, 'unknown certification');
        c.verified = body(req)?.verified !== false;
        return jsonResponse(200, c);
      },
    },
    {
      method: 'POST',
      path: '/certificates',
      doc: 'Add a certificate as if Springest ingested one: {"person_key"|"email", "certification_id", "valid_from", "valid_until"?}.',
      handle: (req) => {
        const b = body(req);
        if (!b) return springestError(400, 'body must be a JSON object');
        const certification = certificationIndex(b.certification_id);
        const validFrom = dateOrNull(b.valid_from);
        const validUntil = b.valid_until === undefined ? null : dateOrNull(b.valid_until);
        const user = userFor(b);
        if (certification < 0 || !validFrom || validUntil === undefined || typeof user === 'string') {
          return springestError(400, typeof user === 'string' ? user : 'certification_id (known) and valid_from (YYYY-MM-DD) required; valid_until YYYY-MM-DD or null');
        }
        const cert = addSpringestCertificate(host, { certification, user, valid_from: validFrom, valid_until: validUntil, status: 'approved', createdAtMs: Math.floor(clock().getTime() / 1000) * 1000, posted: null });
        return jsonResponse(201, presentCertificate(host, cert));
      },
    },
    {
      method: 'PATCH',
      path: '/certificates/:id',
      doc: 'Change a certificate: {"valid_from"?, "valid_until"?, "status"?}.',
      handle: withCert((i, req) => {
        const b = body(req);
        const cert = host.certificates[i];
        if (!b || !cert) return springestError(400, 'body must be a JSON object');
        const from = b.valid_from === undefined ? cert.valid_from : dateOrNull(b.valid_from);
        const until = b.valid_until === undefined ? cert.valid_until : dateOrNull(b.valid_until);
        if (!from || until === undefined) return springestError(400, 'dates must be YYYY-MM-DD');
        cert.valid_from = from;
        cert.valid_until = until;
        if (typeof b.status === 'string') cert.status = b.status;
        return jsonResponse(200, presentCertificate(host, cert));
      }),
    },
    {
      method: 'DELETE',
      path: '/certificates/:id',
      doc: 'Remove a certificate: it disappears from GET.',
      handle: withCert((i) => {
        const cert = host.certificates[i];
        if (cert) cert.removed = true;
        return jsonResponse(200, { id: cert?.id, removed: true });
      }),
    },
    {
      method: 'GET',
      path: '/posted',
      doc: 'Certificates posted through the API, with the PDF sha256 and size, visible or not.',
      handle: () => jsonResponse(200, host.certificates.filter((c) => c.posted).map((c) => ({ ...presentCertificate(host, c), visible: host.certifications[c.certification]?.verified === true && !c.removed, file: c.posted }))),
    },
  ];
}
