/**
 * The Credentials API v2 (openedx-credentials.txt): list with DRF page pagination and filters,
 * retrieve, status-only PATCH; POST lives in create.ts. Every route authenticates (JWT) and is
 * throttled per client before it looks at anything else, as DRF does.
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import { drfError, type Auth } from './auth.ts';
import { canonicalUuid } from './catalog.ts';
import { KIND_PROGRAM, KIND_RUN, selectCredentials, STATUSES, type CredentialFilter, type OpenedxData } from './data.ts';
import { isObject, isWindow, pageResponse, pageWindow, parseBody, pyStr, type PageSettings } from './drf.ts';
import { clockUs, setStatus } from './mutate.ts';
import { credentialJson } from './present.ts';

export interface ApiContext {
  data: OpenedxData;
  auth: Auth;
  pages: PageSettings;
  shouldRepeatPage(): boolean;
}

/** Django's QueryDict.get: the last value of a repeated parameter; an empty value means "no filter". */
export function lastParam(req: SimRequest, name: string): string | undefined {
  const all = req.query.getAll(name);
  const v = all[all.length - 1];
  return v === undefined || v === '' ? undefined : v;
}

export const notFound = (): SimResponse => drfError(404, 'Not found.');

/** The live row a `:uuid` path names (any case, with or without dashes), or -1. */
export function rowOfUuid(data: OpenedxData, text: string | undefined): number {
  const uuid = canonicalUuid(text ?? '');
  return uuid === null ? -1 : (data.credentials.byUuid.get(uuid) ?? -1);
}

/** Query parameters to a filter, or django-filter's 400 for a status that is not a choice. */
function readFilter(data: OpenedxData, req: SimRequest): { ok: true; filter: CredentialFilter } | { ok: false; response: SimResponse } {
  const f: CredentialFilter = {};
  const username = lastParam(req, 'username');
  if (username !== undefined) f.username = username;
  const status = lastParam(req, 'status');
  if (status !== undefined) {
    const s = STATUSES.indexOf(status as (typeof STATUSES)[number]);
    if (s < 0) return { ok: false, response: jsonResponse(400, { status: [`Select a valid choice. ${status} is not one of the available choices.`] }) };
    f.status = s;
  }
  const program = lastParam(req, 'program_uuid');
  if (program !== undefined) {
    const uuid = canonicalUuid(program);
    f.program = uuid === null ? null : (data.catalog.programByUuid.get(uuid) ?? null);
  }
  // Upstream's CredentialTypeFilter ignores a type it does not know: the list is then unfiltered.
  const type = lastParam(req, 'type');
  if (type === 'program') f.kind = KIND_PROGRAM;
  else if (type === 'course-run') f.kind = KIND_RUN;
  return { ok: true, filter: f };
}

export function credentialsApiRoutes(ctx: ApiContext): SimRoute[] {
  const { data, auth } = ctx;
  // Filtered row lists, reused while nothing changes (a full walk asks for the same list per page).
  const cache = new Map<string, readonly number[]>();
  let cacheVersion = -1;
  const select = (f: CredentialFilter): readonly number[] => {
    if (cacheVersion !== data.version || cache.size > 64) {
      cache.clear();
      cacheVersion = data.version;
    }
    const key = JSON.stringify([f.username ?? 0, f.status ?? 'any', f.program === undefined ? 'any' : f.program, f.kind ?? 'any']);
    let rows = cache.get(key);
    if (!rows) cache.set(key, (rows = selectCredentials(data, f)));
    return rows;
  };

  const list = (req: SimRequest): SimResponse => {
    const who = auth.guard(req);
    if (!('clientId' in who)) return who;
    const filter = readFilter(data, req);
    if (!filter.ok) return filter.response;
    const rows = select(filter.filter);
    const w = pageWindow(req, rows.length, ctx.pages);
    if (!isWindow(w)) return w;
    let { start, end } = w;
    if (w.page > 1 && ctx.shouldRepeatPage()) {
      // Flaky pagination: this page's links, the previous page's rows.
      end = start;
      start = Math.max(0, start - w.size);
    }
    const results = [];
    for (let i = start; i < end; i++) results.push(credentialJson(data, rows[i] as number, req.origin));
    return pageResponse(w, results);
  };

  return [
    { method: 'GET', path: '/api/v2/credentials', doc: 'List credentials: page, page_size (max 100), username, status, program_uuid, type.', handle: list },
    {
      method: 'GET',
      path: '/api/v2/credentials/:uuid',
      doc: 'One credential by uuid.',
      handle(req) {
        const who = auth.guard(req);
        if (!('clientId' in who)) return who;
        const row = rowOfUuid(data, req.params.uuid);
        return row < 0 ? notFound() : jsonResponse(200, credentialJson(data, row, req.origin));
      },
    },
    {
      method: 'PATCH',
      path: '/api/v2/credentials/:uuid',
      doc: 'Change status (awarded | revoked); no other field.',
      handle(req) {
        const who = auth.guard(req);
        if (!('clientId' in who)) return who;
        const row = rowOfUuid(data, req.params.uuid);
        if (row < 0) return notFound();
        const body = parseBody(req);
        if (!body.ok) return body.response;
        if (!isObject(body.value)) return jsonResponse(400, { non_field_errors: [`Invalid data. Expected a dictionary, but got ${Array.isArray(body.value) ? 'list' : typeof body.value}.`] });
        const errors: Record<string, string[]> = {};
        // "This endpoint only accepts the status parameter."
        for (const key of Object.keys(body.value)) if (key !== 'status') errors[key] = ['This field cannot be updated; only status can be changed.'];
        const status = body.value.status;
        const s = typeof status === 'string' ? STATUSES.indexOf(status as (typeof STATUSES)[number]) : -1;
        if (!('status' in body.value)) errors.status = ['This field is required.'];
        else if (status === null) errors.status = ['This field may not be null.'];
        else if (s < 0) errors.status = [`"${pyStr(status)}" is not a valid choice.`];
        if (Object.keys(errors).length > 0) return jsonResponse(400, errors);
        setStatus(data, row, s, clockUs(req.now));
        return jsonResponse(200, credentialJson(data, row, req.origin));
      },
    },
  ];
}
