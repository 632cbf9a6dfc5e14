/**
 * FrontCore's API as frontcore-diplomas.txt, frontcore-api-overview.txt and frontcore-notes.md
 * describe it: `X-API-Key` auth (one key = one account), 5 requests/second per account, errors as
 * `{"error": "..."}`, `/v2/diplomas` with signed download links, `/v2/participants`, and the
 * (assumed) certificate status checks.
 */
import { makeCertificatePdf } from '../common/pdf.ts';
import type { WindowLimiter } from '../common/ratelimit.ts';
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import { findById, participantsOfUser, type FrontcoreData } from './model.ts';
import { createParticipantFinder, parseParticipantQuery } from './participants.ts';
import type { Presenter } from './present.ts';
import type { DownloadTokens } from './tokens.ts';

export interface FrontcoreApiDeps {
  data: FrontcoreData;
  present: Presenter;
  tokens: DownloadTokens;
  limiter: WindowLimiter;
  /** API key -> account name. */
  accounts: ReadonlyMap<string, string>;
  /** Whether a list page should repeat the previous page (fault injection). */
  shouldRepeatPage(): boolean;
}

export const DEFAULT_TTL_SECONDS = 900;
const MAX_TTL_SECONDS = 365 * 86_400;
const INTEGER = /^\d+$/;

export const fcError = (status: number, message: string, headers?: Record<string, string>): SimResponse => jsonResponse(status, { error: message }, headers);

function intParam(q: URLSearchParams, name: string): number | null | SimResponse {
  const v = q.get(name);
  if (v === null || v === '') return null;
  return INTEGER.test(v) && Number(v) <= 2_147_483_647 ? Number(v) : fcError(400, `${name} must be an integer`);
}

const isResponse = (v: unknown): v is SimResponse => typeof v === 'object' && v !== null;

export function frontcoreApiRoutes(deps: FrontcoreApiDeps): SimRoute[] {
  const { data, present, tokens, limiter, accounts } = deps;
  const finder = createParticipantFinder(data);

  /** Auth, then the account's rate window; null when the request may go on. */
  const gate = (req: SimRequest): SimResponse | null => {
    const raw = req.headers['x-api-key'];
    const key = Array.isArray(raw) ? raw[0] : raw;
    const account = key === undefined ? undefined : accounts.get(key);
    if (account === undefined) return fcError(401, 'Wrong API Key');
    const taken = limiter.take(account, req.now.getTime());
    // The doc does not say whether a 429 carries Retry-After; we send one, in whole seconds (1 at 5/s).
    if (!taken.ok) return fcError(429, 'Too Many Requests', { 'retry-after': String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))) });
    return null;
  };

  const pdfFor = (d: number, stream: boolean): SimResponse => {
    const who = present.identity(present.userOf(d));
    const course = present.courseOf(d);
    const id = data.diplomas.id[d] as number;
    const body = makeCertificatePdf([
      'Kursbevis / Diploma',
      `${who.firstname} ${who.lastname}`,
      `${course.title} (${course.reference})`,
      `Kursdato: ${present.zc.date(present.coursedateOf(d).endAt)}`,
      `Serienummer: ${present.serial(d) ?? '-'}   Sertifikatnr: ${present.randomCertificateNumber(d)}`,
      `Diplom-id: ${id}`,
    ]);
    const disposition = `${stream ? 'inline' : 'attachment'}; filename="diploma-${id}.pdf"`;
    return { status: 200, headers: { 'content-type': 'application/pdf', 'content-disposition': disposition }, body };
  };

  /** The diploma at /course-users/:user_id/diplomas/:id, or -1 when there is none (or it is deleted). */
  const diplomaAt = (params: Record<string, string>): number => {
    const userId = Number(params.user_id);
    const d = INTEGER.test(params.id ?? '') ? findById(data.diplomas.id, data.diplomas.length, Number(params.id)) : -1;
    if (d < 0 || data.users.id[present.userOf(d)] !== userId || data.diplomas.deletedAt[d] !== 0) return -1;
    return d;
  };

  return [
    {
      method: 'GET',
      path: '/v2/diplomas',
      name: 'GET /v2/diplomas',
      doc: 'Diplomas by user_id and/or participant_id (at least one), with signed download links valid for ttl seconds.',
      handle(req) {
        const denied = gate(req);
        if (denied) return denied;
        const userId = intParam(req.query, 'user_id');
        const participantId = intParam(req.query, 'participant_id');
        const ttl = intParam(req.query, 'ttl');
        for (const v of [userId, participantId, ttl]) if (isResponse(v)) return v;
        if (userId === null && participantId === null) return fcError(400, 'At least one parameter is required: user_id or participant_id');
        const ttlSeconds = (ttl as number | null) ?? DEFAULT_TTL_SECONDS;
        if (ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) return fcError(400, `ttl must be between 1 and ${MAX_TTL_SECONDS}`);
        let rows: number[];
        if (userId !== null) {
          const u = findById(data.users.id, data.users.length, userId as number);
          rows = u < 0 ? [] : participantsOfUser(data, u);
        } else {
          const p = findById(data.participants.id, data.participants.length, participantId as number);
          rows = p < 0 ? [] : [p];
        }
        if (participantId !== null) rows = rows.filter((p) => data.participants.id[p] === participantId);
        const diplomas = rows.map((p) => data.participants.diploma[p] as number).filter((d) => d >= 0).sort((a, b) => a - b);
        const expiresAt = Math.floor(req.now.getTime() / 1000) + ttlSeconds;
        return jsonResponse(200, { success: 'ok', items: diplomas.map((d) => present.diplomaItem(d, req.origin, expiresAt)) });
      },
    },
    {
      method: 'GET',
      path: '/v2/participants',
      name: 'GET /v2/participants',
      doc: 'Participants (bare array, by id): course_id, coursedate_id, customer_id, user_id, limit (<=250), page, since_id, created/updated_at_min/max, include[]=attendance.',
      handle(req) {
        const denied = gate(req);
        if (denied) return denied;
        const query = parseParticipantQuery(req.query, present.zc);
        if (typeof query === 'string') return fcError(400, query);
        const repeat = query.page > 1 && deps.shouldRepeatPage();
        const rows = finder.find(repeat ? { ...query, page: query.page - 1 } : query);
        const now = req.now.getTime();
        return jsonResponse(200, rows.map((p) => present.participant(p, query.attendance, now)));
      },
    },
    {
      method: 'GET',
      path: '/v2/certificates/status',
      name: 'GET /v2/certificates/status',
      doc: 'ASSUMED path. Valid certificate for a course? By national_identification_number, user_id, or date_of_birth+firstname+lastname; course_id required.',
      handle(req) {
        const denied = gate(req);
        if (denied) return denied;
        return certificateStatus(req.query);
      },
    },
    {
      method: 'GET',
      path: '/v2/course-users/:user_id/diplomas/:id/download',
      name: 'GET /v2/course-users/:user_id/diplomas/:id/download',
      doc: 'The diploma PDF (links.stream), with X-API-Key; stream=true answers inline.',
      handle(req) {
        const denied = gate(req);
        if (denied) return denied;
        const d = diplomaAt(req.params);
        return d < 0 ? fcError(404, 'Diploma not found') : pdfFor(d, req.query.get('stream') === 'true');
      },
    },
    {
      method: 'GET',
      path: '/v2/public/course-users/:user_id/diplomas/:id/download',
      name: 'GET /v2/public/course-users/:user_id/diplomas/:id/download',
      doc: 'The diploma PDF (links.download) without API key, while its signed token is valid.',
      handle(req) {
        const token = req.query.get('token');
        if (!token) return fcError(401, 'Missing token');
        const userId = Number(req.params.user_id);
        const diplomaId = Number(req.params.id);
        const verdict = tokens.verify(token, userId, diplomaId, req.now.getTime());
        if (verdict === 'expired') return fcError(401, 'Token expired');
        if (verdict === 'invalid') return fcError(403, 'Invalid token');
        const d = diplomaAt(req.params);
        return d < 0 ? fcError(404, 'Diploma not found') : pdfFor(d, false);
      },
    },
  ];

  function certificateStatus(q: URLSearchParams): SimResponse {
    const courseId = intParam(q, 'course_id');
    if (isResponse(courseId)) return courseId;
    const userId = intParam(q, 'user_id');
    if (isResponse(userId)) return userId;
    const nin = (q.get('national_identification_number') ?? '').replace(/\s+/g, '');
    const dob = q.get('date_of_birth') ?? '';
    const norm = (s: string): string => s.normalize('NFC').trim().toLowerCase();
    const first = norm(q.get('firstname') ?? '');
    const last = norm(q.get('lastname') ?? '');
    const byName = dob !== '' || first !== '' || last !== '';
    if (nin === '' && userId === null && !byName) return fcError(400, 'national_identification_number, user_id or date_of_birth with firstname and lastname is required');
    // Precedence when several identifications are given (doc silent): NIN, then user id, then birth date + name.
    if (nin === '' && userId === null && (dob === '' || first === '' || last === '')) return fcError(400, 'date_of_birth, firstname and lastname are required together');
    if (nin === '' && userId === null && !/^\d{4}-\d{2}-\d{2}$/.test(dob)) return fcError(400, 'date_of_birth must be in the format yyyy-mm-dd');
    if (courseId === null) return fcError(400, 'course_id is required');
    const users: number[] = [];
    if (nin !== '' || userId === null) {
      for (let u = 0; u < data.users.length; u++) {
        const who = present.identity(u);
        const hit = nin !== '' ? who.national_identification_number === nin : who.date_of_birth === dob && norm(who.firstname) === first && norm(who.lastname) === last;
        if (hit) users.push(u);
      }
    } else {
      const u = findById(data.users.id, data.users.length, userId);
      if (u >= 0) users.push(u);
    }
    const items: number[] = [];
    for (const u of users) {
      for (const p of participantsOfUser(data, u)) {
        const d = data.participants.diploma[p] as number;
        if (d >= 0 && data.diplomas.deletedAt[d] === 0 && present.courseOf(d).id === courseId) items.push(d);
      }
    }
    items.sort((a, b) => a - b);
    return jsonResponse(200, { success: 'ok', valid: items.length > 0, items: items.map((d) => present.statusSummary(d)) });
  }
}
