/**
 * Falkor's endpoints (story-certificates.txt), one set per account under the account's base path:
 * `POST /<account>/api/v1/logs/story-certificates` (`Authorization: Basic <token>`, optional filters,
 * no pagination, a `hash` of the data) and the permalinks the answer hands out,
 * `GET /<account>/api/certificates/<uid>` (the PDF, no auth).
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import { createWindowLimiter } from '../common/ratelimit.ts';
import { parseFilters, selectCertificates } from './filters.ts';
import type { FalkorAccount } from './model.ts';
import type { OsloFormat } from './oslo.ts';
import { answerBody, certificatePdf, dataBody } from './present.ts';

/** Every Falkor error: `{"status":"error","message":"..."}` (the success body's `status`, turned). */
export const falkorErrorBody = (message: string): { status: 'error'; message: string } => ({ status: 'error', message });
export const falkorError = (status: number, message: string, headers?: Record<string, string>): SimResponse => jsonResponse(status, falkorErrorBody(message), headers);

/** The doc documents no rate limit: off unless set. When set, it counts per account, accepted requests only. */
export interface FalkorRateLimit {
  limit: number;
  windowMs: number;
}

/** The shared server truncates only `json` answers; the list is ready bytes, so it asks the faults itself. */
export type TruncateHook = () => boolean;

export const STORY_CERTIFICATES_ROUTE = 'POST /v1/logs/story-certificates';

export function falkorRoutes(accounts: readonly FalkorAccount[], fmt: OsloFormat, opts: { rateLimit: FalkorRateLimit | null; shouldTruncate: TruncateHook }): SimRoute[] {
  const limiter = opts.rateLimit ? createWindowLimiter(opts.rateLimit) : null;
  const find = (req: SimRequest): FalkorAccount | undefined => accounts.find((a) => a.name === req.params.account);

  const storyCertificates = (req: SimRequest): SimResponse => {
    const account = find(req);
    if (!account) return falkorError(404, 'Not found');
    // "Authorization: Basic <Your Base64 Encoded Token>": the token exactly as issued; the scheme name in any
    // letter case (RFC 9110 auth schemes are case-insensitive). Anything else, or nothing, is 401.
    const auth = /^basic\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!auth) return falkorError(401, 'Unauthorized: missing Authorization: Basic <token> header');
    if (auth[1] !== account.token) return falkorError(401, 'Unauthorized: invalid token');
    if (limiter) {
      const taken = limiter.take(account.name, req.now.getTime());
      if (!taken.ok) return falkorError(429, 'Too many requests', { 'retry-after': String(Math.ceil(taken.retryAfterMs / 1000)) });
    }
    const filters = parseFilters(req.body);
    if (typeof filters === 'string') return falkorError(400, filters);
    const body = answerBody(dataBody(account, selectCertificates(account, filters), req.origin, fmt));
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: opts.shouldTruncate() ? body.subarray(0, Math.floor(body.length / 2)) : body };
  };

  const permalink = (req: SimRequest): SimResponse => {
    const account = find(req);
    const row = account ? account.liveRow(req.params.uid ?? '') : -1;
    // A removed certificate's permalink is gone (404), like any unknown one.
    if (!account || row < 0) return falkorError(404, 'Certificate not found');
    return { status: 200, headers: { 'content-type': 'application/pdf', 'content-disposition': `inline; filename="certificate-${req.params.uid}.pdf"` }, body: certificatePdf(account, row, fmt) };
  };

  return [
    {
      method: 'POST',
      path: '/:account/api/v1/logs/story-certificates',
      name: STORY_CERTIFICATES_ROUTE,
      doc: 'Story certificates of one account (Basic auth with its token); optional filters app, story, groups[], users[]; no pagination.',
      handle: storyCertificates,
    },
    {
      method: 'GET',
      path: '/:account/api/certificates/:uid',
      name: 'GET certificate permalink',
      doc: 'A certificate permalink (certificate.url): the PDF, no auth; 404 once removed.',
      handle: permalink,
    },
  ];
}
