/**
 * Springest's certificate and certification endpoints (springest-certificates.txt): `api_key` in the
 * query string, a separate key for certifications, multipart POST of raw PDFs at most 30 per minute.
 */
import { createHash } from 'node:crypto';
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import { createWindowLimiter } from '../common/ratelimit.ts';
import { formatZoneless, parseZoneless } from '../common/time.ts';
import { addSpringestCertificate, isVisible, type SpringestCertificate, type SpringestHost } from './model.ts';

/** The doc shows no error body; assumed: `{"error": "<message>"}` with the HTTP status. */
export const springestError = (status: number, message: string): SimResponse => jsonResponse(status, { error: message });

export interface SpringestLimits {
  /** "about 4000 requests/hour per key" */
  requestsPerHour: number;
  /** "a limit of POSTing max 30 certificates per minute" */
  postsPerMinute: number;
}

export function presentCertificate(host: SpringestHost, c: SpringestCertificate): Record<string, unknown> {
  const certification = host.certifications[c.certification];
  const user = host.users[c.user];
  return {
    id: c.id,
    name: certification?.name,
    description: certification?.description,
    certification_id: certification?.id,
    valid_from: c.valid_from,
    valid_until: c.valid_until,
    status: c.status,
    created_at: new Date(c.createdAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    user: { email: user?.email, external_id: user?.external_id },
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

async function readMultipart(req: SimRequest): Promise<FormData | null> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) return null;
  try {
    return await new Request('http://springest.invalid/', { method: 'POST', headers: { 'content-type': type }, body: req.body }).formData();
  } catch {
    return null;
  }
}

export function springestRoutes(host: SpringestHost, limits: SpringestLimits, clock: () => Date): SimRoute[] {
  const hourly = createWindowLimiter({ limit: limits.requestsPerHour, windowMs: 3_600_000 });
  const posts = createWindowLimiter({ limit: limits.postsPerMinute, windowMs: 60_000 });
  /** Checks the key and the hourly budget; returns an error response or null. */
  const admit = (req: SimRequest, key: string): SimResponse | null => {
    const given = req.query.get('api_key');
    if (given !== key) return springestError(401, 'Invalid or missing api_key');
    const taken = hourly.take(key, clock().getTime());
    if (!taken.ok) return jsonResponse(429, { error: 'Too many requests' }, { 'retry-after': String(Math.ceil(taken.retryAfterMs / 1000)) });
    return null;
  };
  const xml = (): SimResponse => springestError(406, 'XML is not served by this simulator; use the JSON endpoints');

  const listCertificates = (req: SimRequest): SimResponse => {
    const refused = admit(req, host.apiKey);
    if (refused) return refused;
    const email = req.query.get('email')?.trim().toLowerCase();
    const certificationId = req.query.get('certification_id');
    const createdFrom = req.query.get('created_from');
    let fromMs = -Infinity;
    if (createdFrom !== null) {
      const at = DATE.test(createdFrom) ? parseZoneless(createdFrom, host.timeZone) : null;
      if (!at) return springestError(400, 'created_from must be a date YYYY-MM-DD');
      fromMs = at.getTime(); // "created on or after that date": inclusive, from midnight on the host
    }
    const certificates = host.certificates
      .filter((c) => isVisible(host, c) && c.createdAtMs >= fromMs)
      .filter((c) => email === undefined || host.users[c.user]?.email.trim().toLowerCase() === email)
      .filter((c) => certificationId === null || String(host.certifications[c.certification]?.id) === certificationId)
      .map((c) => presentCertificate(host, c));
    return jsonResponse(200, { certificates });
  };

  const postCertificate = async (req: SimRequest): Promise<SimResponse> => {
    const refused = admit(req, host.apiKey);
    if (refused) return refused;
    // "At the moment we have a limit of POSTing max 30 certificates per minute. Contact us if this gives 400 bad request errors."
    if (!posts.take(host.apiKey, clock().getTime()).ok) return springestError(400, 'Bad request: at most 30 certificates may be posted per minute');
    const form = await readMultipart(req);
    if (!form) return springestError(400, 'Request must be multipart/form-data');
    const field = (name: string): string | null => {
      const v = form.get(name);
      return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
    };
    const certificationId = field('certification_id');
    const email = field('email');
    const validFrom = field('valid_from');
    const validUntil = field('valid_until');
    const conversion = field('conversion_id');
    const certification = host.certifications.findIndex((c) => String(c.id) === certificationId);
    const problems: string[] = [];
    if (!certificationId || !/^\d+$/.test(certificationId)) problems.push('certification_id is required (integer)');
    else if (certification < 0) problems.push('certification_id is unknown');
    if (!email || !email.includes('@')) problems.push('email is required');
    if (!validFrom || !DATE.test(validFrom)) problems.push('valid_from is required (YYYY-MM-DD)');
    if (validUntil !== null && !DATE.test(validUntil)) problems.push('valid_until must be YYYY-MM-DD');
    if (validUntil === null && host.certifications[certification]?.requires_valid_until) problems.push('valid_until is required for this certification');
    if (conversion !== null && !/^\d+$/.test(conversion)) problems.push('conversion_id must be an integer');
    const file = form.get('file');
    let pdf: Buffer | null = null;
    if (!(file instanceof Blob)) problems.push('file is required');
    else {
      pdf = Buffer.from(await file.arrayBuffer());
      // "Actual file sent cannot be decoded. Base64 is not allowed."
      if (pdf.subarray(0, 7).toString('latin1') === 'JVBERi0') problems.push('file: Base64 is not allowed, send the raw file');
      else if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') problems.push('file must be a PDF');
    }
    if (problems.length > 0 || !pdf || !email || !validFrom) return springestError(400, problems.join('; '));
    let user = host.users.findIndex((u) => u.email.trim().toLowerCase() === email.toLowerCase());
    if (user < 0) user = host.users.push({ email, external_id: `E${90000 + host.users.length}`, personKey: `new:${email.toLowerCase()}` }) - 1;
    const cert = addSpringestCertificate(host, {
      certification,
      user,
      valid_from: validFrom,
      valid_until: validUntil,
      status: 'approved',
      createdAtMs: Math.floor(clock().getTime() / 1000) * 1000,
      posted: { sha256: createHash('sha256').update(pdf).digest('hex'), bytes: pdf.length, conversion_id: conversion === null ? null : Number(conversion) },
    });
    // Stored now; "it will only be visible via GET calls if the linked certification_id is verified".
    return jsonResponse(201, { certificate: presentCertificate(host, cert) });
  };

  const listCertifications = (req: SimRequest): SimResponse => {
    const refused = admit(req, host.certificationsKey);
    if (refused) return refused;
    const certifications = host.certifications.filter((c) => c.verified).map(({ id, name, description, requires_valid_until }) => ({ id, name, description, requires_valid_until }));
    return jsonResponse(200, { certifications });
  };

  return [
    { method: 'GET', path: '/users/certificates', name: 'GET /users/certificates', doc: 'Verified certificates; ?api_key=&email=&certification_id=&created_from=YYYY-MM-DD (inclusive)', handle: listCertificates },
    { method: 'GET', path: '/users/certificates.json', name: 'GET /users/certificates', handle: listCertificates },
    { method: 'GET', path: '/users/certificates.xml', name: 'GET /users/certificates.xml', handle: xml },
    { method: 'POST', path: '/users/certificates', name: 'POST /users/certificates', doc: 'multipart/form-data: certification_id, email, valid_from, valid_until (when required), file (raw PDF), conversion_id?', handle: postCertificate },
    { method: 'POST', path: '/users/certificates.json', name: 'POST /users/certificates', handle: postCertificate },
    { method: 'GET', path: '/certifications', name: 'GET /certifications', doc: 'Verified certifications; needs the separate certifications api_key', handle: listCertifications },
    { method: 'GET', path: '/certifications.json', name: 'GET /certifications', handle: listCertifications },
    { method: 'GET', path: '/certifications.xml', name: 'GET /certifications.xml', handle: xml },
  ];
}

/** The host's local date of an instant (for `created_from` comparisons in tests and truth). */
export const localDate = (ms: number, timeZone: string): string => formatZoneless(new Date(ms), timeZone).slice(0, 10);
