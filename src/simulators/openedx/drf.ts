/**
 * Django REST framework conventions the Open edX services inherit: PageNumberPagination (`count`,
 * absolute `next` / `previous` links that keep the other query parameters), request-body parsing
 * errors, and field-error bodies.
 */
import { jsonResponse, type SimRequest, type SimResponse } from '../common/server.ts';
import { drfError } from './auth.ts';

export interface PageSettings {
  /** REST_FRAMEWORK["PAGE_SIZE"]. */
  pageSize: number;
  /**
   * PageNumberPagination.page_size_query_param: null (DRF's default, what the Credentials service runs with) means a
   * `page_size` parameter is ignored; else the parameter's name and its cap (`max_page_size`).
   */
  pageSizeQuery: { param: string; max: number } | null;
}

export interface PageWindow {
  page: number;
  size: number;
  start: number;
  end: number;
  count: number;
  next: string | null;
  previous: string | null;
}

/** Python's `urlencode(..., quote_via=quote_plus)`: everything but `A-Za-z0-9_.-~` escaped, space as `+`. */
export function quotePlus(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * DRF's replace_query_param / remove_query_param: the query is re-encoded with its keys sorted,
 * so a `next` link does not keep the caller's parameter order.
 */
function pageLink(req: SimRequest, page: number | null): string {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of req.query) {
    if (k === 'page') continue;
    byKey.set(k, [...(byKey.get(k) ?? []), v]);
  }
  if (page !== null) byKey.set('page', [String(page)]);
  const query = [...byKey.keys()]
    .sort()
    .flatMap((k) => (byKey.get(k) ?? []).map((v) => `${quotePlus(k)}=${quotePlus(v)}`))
    .join('&');
  return `${req.origin}${req.path}${query ? `?${query}` : ''}`;
}

/** A positive integer as DRF's `_positive_int(strict=True)` reads it, else null. */
function positiveInt(text: string | null): number | null {
  if (text === null || !/^\s*\+?\d+\s*$/.test(text)) return null;
  const n = Number(text.trim());
  return n > 0 ? n : null;
}

/** Which slice of `count` rows the request's `page` / `page_size` select, or DRF's 404 "Invalid page.". */
export function pageWindow(req: SimRequest, count: number, settings: PageSettings): PageWindow | SimResponse {
  // get_page_size: without page_size_query_param the setting alone counts; with it, a bad value (not a positive
  // integer) silently falls back to the setting and a big one is capped.
  const q = settings.pageSizeQuery;
  const size = q ? Math.min(positiveInt(req.query.getAll(q.param).at(-1) ?? null) ?? settings.pageSize, q.max) : settings.pageSize;
  const pages = Math.max(1, Math.ceil(count / size));
  // Django's QueryDict.get: a repeated parameter counts with its last value.
  // get_page_number: `request.query_params.get('page') or 1`, so an empty page is the first.
  const raw = req.query.getAll('page').at(-1) || '1';
  // Django's paginator: `last` is the last page; anything not an integer in 1..pages is invalid.
  const page = raw === 'last' ? pages : /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(page) || page < 1 || page > pages) return drfError(404, 'Invalid page.');
  const start = (page - 1) * size;
  return {
    page,
    size,
    start,
    end: Math.min(start + size, count),
    count,
    next: page < pages ? pageLink(req, page + 1) : null,
    previous: page > 1 ? pageLink(req, page - 1 === 1 ? null : page - 1) : null,
  };
}

export function isWindow(w: PageWindow | SimResponse): w is PageWindow {
  return 'page' in w && 'start' in w;
}

export function pageResponse(w: PageWindow, results: unknown[]): SimResponse {
  return jsonResponse(200, { count: w.count, next: w.next, previous: w.previous, results });
}

export type Body = { ok: true; value: unknown } | { ok: false; response: SimResponse };

/** DRF's JSONParser (and FormParser): a parse error is 400, an unknown media type 415. */
export function parseBody(req: SimRequest): Body {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = req.body.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') return { ok: true, value: Object.fromEntries(new URLSearchParams(text)) };
  if (type !== '' && type !== 'application/json' && !type.endsWith('+json')) {
    return { ok: false, response: drfError(415, `Unsupported media type "${type}" in request.`) };
  }
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, response: drfError(400, `JSON parse error - ${err instanceof Error ? err.message : 'invalid JSON'}`) };
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Python's type name for DRF's "Expected a list of items but got type ..." messages. */
export function pythonType(v: unknown): string {
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return 'dict';
}

/** Python's str() of a JSON value, for messages that echo what the caller sent. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null || v === undefined) return 'None';
  return JSON.stringify(v);
}
