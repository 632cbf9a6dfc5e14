/**
 * Springest's certificate and certification endpoints (springest-certificates.txt): `api_key` in the
 * query string, a different key for certifications, multipart POST of raw PDFs at most 30 a minute,
 * about 4000 requests an hour per key.
 */
import { createHash } from 'node:crypto';
import { createWindowLimiter } from '../common/ratelimit.ts';
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import { parseZoneless } from '../common/time.ts';
import { addCertificate, dayNumber, emailKey, isVisible, NO_DAY, type SpringestHost } from './model.ts';
import { certificatesBody, presentCertificate } from './present.ts';
import type { SpringestUsers } from './users.ts';

/** The doc shows no error body. Assumed, once for every error: `{"error": "<message>"}` with the HTTP status. */
export const springestErrorBody = (message: string): { error: string } => ({ error: message });
export const springestError = (status: number, message: string): SimResponse => jsonResponse(status, springestErrorBody(message));

export interface SpringestLimits {
  /** "about 4000 requests/hour per key" */
  requestsPerHour: number;
  /** "a limit of POSTing max 30 certificates per minute" */
  postsPerMinute: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (s: string): boolean => DATE.test(s) && parseZoneless(s, 'UTC') !== null;

async function readMultipart(req: SimRequest): Promise<FormData | null> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) return null;
  try {
    return await new Request('http://springest.invalid/', { method: 'POST', headers: { 'content-type': type }, body: req.body }).formData();
  } catch {
    return null;
  }
}

/**
 * The shared server cuts only `json` answers in half (truncate_rate); the certificate list is written
 * as ready bytes for speed, so it asks the fault settings itself through this hook.
 */
export type TruncateHook = () => boolean;

export function springestRoutes(host: SpringestHost, users: SpringestUsers, limits: SpringestLimits, shouldTruncate: TruncateHook = () => false): SimRoute[] {
  const hourly = createWindowLimiter({ limit: limits.requestsPerHour, windowMs: 3_600_000 });
  const posts = createWindowLimiter({ limit: limits.postsPerMinute, windowMs: 60_000 });

  /** The key check and the hourly budget (per key; refused requests do not count); an error or null. */
  const admit = (req: SimRequest, key: string): SimResponse | null => {
    // "you will need a different api_key for certifications": each key is refused where the other belongs.
    if (req.query.get('api_key') !== key) return springestError(401, 'Invalid or missing api_key');
    const taken = hourly.take(key, req.now.getTime());
    if (!taken.ok) return jsonResponse(429, springestErrorBody('Rate limit exceeded: about 4000 requests per hour per api_key'), { 'retry-after': String(Math.ceil(taken.retryAfterMs / 1000)) });
    return null;
  };
  const xml = (): SimResponse => springestError(406, 'XML is not served by this simulator; use the JSON endpoints');

  const listCertificates = (req: SimRequest): SimResponse => {
    const refused = admit(req, host.apiKey);
    if (refused) return refused;
    const email = req.query.get('email');
    const certificationId = req.query.get('certification_id');
    const createdFrom = req.query.get('created_from');
    let fromMs = -Infinity;
    if (createdFrom !== null) {
      const midnight = isDate(createdFrom) ? parseZoneless(createdFrom, host.timeZone) : null;
      if (!midnight) return springestError(400, 'created_from must be a date YYYY-MM-DD');
      // "created on or after that date": inclusive, from midnight of that day on the host (Europe/Amsterdam for .nl).
      fromMs = midnight.getTime();
    }
    // Email: case-insensitive, surrounding spaces ignored, otherwise exact. Unknown filters -> no certificates.
    const user = email === null ? -1 : (host.userByEmail.get(emailKey(email)) ?? -2);
    const certification = certificationId === null ? -1 : host.certifications.findIndex((c) => String(c.id) === certificationId.trim());
    const t = host.certificates;
    const rows: number[] = [];
    if (user !== -2 && !(certificationId !== null && certification < 0)) {
      for (let row = 0; row < t.length; row++) {
        if (!isVisible(host, row) || (t.createdAt[row] as number) < fromMs) continue;
        if (user >= 0 && t.user[row] !== user) continue;
        if (certification >= 0 && t.certification[row] !== certification) continue;
        rows.push(row);
      }
    }
    const body = certificatesBody(host, rows);
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: shouldTruncate() ? body.subarray(0, Math.floor(body.length / 2)) : body };
  };

  const postCertificate = async (req: SimRequest): Promise<SimResponse> => {
    const refused = admit(req, host.apiKey);
    if (refused) return refused;
    // "At the moment we have a limit of POSTing max 30 certificates per minute. Contact us if this gives 400 bad request errors."
    if (!posts.take(host.apiKey, req.now.getTime()).ok) return springestError(400, 'Bad request: at most 30 certificates may be posted per minute');
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
    if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) problems.push('email is required');
    if (!validFrom || !isDate(validFrom)) problems.push('valid_from is required (YYYY-MM-DD)');
    if (validUntil !== null && !isDate(validUntil)) problems.push('valid_until must be YYYY-MM-DD');
    if (validUntil === null && host.certifications[certification]?.requires_valid_until) problems.push('valid_until is required for this certification');
    if (validUntil !== null && validFrom !== null && validUntil < validFrom) problems.push('valid_until must not be before valid_from');
    if (conversion !== null && !/^\d{1,9}$/.test(conversion)) problems.push('conversion_id must be an integer');
    const file = form.get('file');
    let pdf: Buffer | null = null;
    if (!(file instanceof Blob)) problems.push('file is required');
    else {
      pdf = Buffer.from(await file.arrayBuffer());
      const head = pdf.subarray(0, 16).toString('latin1').trimStart();
      // "Actual file sent cannot be decoded. Base64 is not allowed." (`JVBERi0` is `%PDF-` in base64.)
      if (head.startsWith('JVBERi0') || head.startsWith('data:')) problems.push('file: Base64 is not allowed, send the raw file');
      else if (!head.startsWith('%PDF-')) problems.push('file must be a PDF');
    }
    if (problems.length > 0 || !pdf || !email || !validFrom) return springestError(400, problems.join('; '));
    const row = addCertificate(host, {
      certification,
      user: users.forEmail(email),
      validFrom: dayNumber(validFrom),
      validUntil: validUntil === null ? NO_DAY : dayNumber(validUntil),
      createdAt: Math.floor(req.now.getTime() / 1000) * 1000,
    });
    host.posted.set(row, { sha256: createHash('sha256').update(pdf).digest('hex'), bytes: pdf.length, conversion_id: conversion === null ? null : Number(conversion), pdf });
    // Stored now; "it will only be visible via GET calls if the linked certification_id is verified".
    return jsonResponse(201, { certificate: presentCertificate(host, row) });
  };

  const listCertifications = (req: SimRequest): SimResponse => {
    const refused = admit(req, host.certificationsKey);
    if (refused) return refused;
    // "to be able to see all verified certifications per domain"; envelope assumed `{"certifications": [...]}`.
    const certifications = host.certifications.filter((c) => c.verified).map(({ id, name, description, requires_valid_until }) => ({ id, name, description, requires_valid_until }));
    return jsonResponse(200, { certifications });
  };

  return [
    { method: 'GET', path: '/users/certificates', name: 'GET /users/certificates', doc: 'Verified certificates; ?api_key=&email=&certification_id=&created_from=YYYY-MM-DD (inclusive)', handle: listCertificates },
    { method: 'GET', path: '/users/certificates.json', name: 'GET /users/certificates', handle: listCertificates },
    { method: 'GET', path: '/users/certificates.xml', name: 'GET /users/certificates.xml', doc: '406: XML is not served', handle: xml },
    { method: 'POST', path: '/users/certificates', name: 'POST /users/certificates', doc: 'multipart/form-data: certification_id, email, valid_from, valid_until (when required), file (raw PDF), conversion_id?', handle: postCertificate },
    { method: 'POST', path: '/users/certificates.json', name: 'POST /users/certificates', handle: postCertificate },
    { method: 'POST', path: '/users/certificates.xml', name: 'POST /users/certificates.xml', doc: '406: XML is not served', handle: xml },
    { method: 'GET', path: '/certifications', name: 'GET /certifications', doc: 'Verified certifications; needs the separate certifications api_key', handle: listCertifications },
    { method: 'GET', path: '/certifications.json', name: 'GET /certifications', handle: listCertifications },
    { method: 'GET', path: '/certifications.xml', name: 'GET /certifications.xml', doc: '406: XML is not served', handle: xml },
  ];
}
