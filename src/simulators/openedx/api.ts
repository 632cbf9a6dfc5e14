/**
 * The Credentials API v2 (openedx-credentials.txt; upstream credentials/apps/api/v2/views.py CredentialViewSet, a
 * DRF ModelViewSet): list with PageNumberPagination and filters, retrieve, update (PATCH / PUT: status only),
 * destroy (revokes); POST lives in create.ts. Every route runs DRF's order: authentication, permissions, throttle,
 * then the view (access.ts).
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { Access } from './access.ts';
import { drfError } from './auth.ts';
import { canonicalUuid } from './catalog.ts';
import { inListOrder, KIND_PROGRAM, KIND_RUN, selectCredentials, STATUSES, type CredentialFilter, type ListOrder, type OpenedxData } from './data.ts';
import { serverErrorPage } from './django.ts';
import { isObject, isWindow, pageResponse, pageWindow, parseBody, pyStr, pythonType, type PageSettings } from './drf.ts';
import { clockUs, setStatus } from './mutate.ts';
import { credentialJson, type ItemShape } from './present.ts';

export interface ApiContext {
  data: OpenedxData;
  access: Access;
  pages: PageSettings;
  shape: ItemShape;
  order: ListOrder;
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

/** Query parameters to a filter (UserCredentialFilter, filters.py), or django-filter's 400 for a status that is not a choice. */
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
  // CredentialTypeFilter ignores a type it does not know: the list is then unfiltered.
  const type = lastParam(req, 'type');
  if (type === 'program') f.kind = KIND_PROGRAM;
  else if (type === 'course-run') f.kind = KIND_RUN;
  return { ok: true, filter: f };
}

export function credentialsApiRoutes(ctx: ApiContext): SimRoute[] {
  const { data, access } = ctx;
  const item = (row: number, req: SimRequest): unknown => credentialJson(data, row, req.origin, ctx.shape);
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
    if (!rows) cache.set(key, (rows = inListOrder(data, selectCredentials(data, f), ctx.order)));
    return rows;
  };

  const list = (req: SimRequest): SimResponse => {
    const who = access.credentials(req, 'list');
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
    for (let i = start; i < end; i++) results.push(item(rows[i] as number, req));
    return pageResponse(w, results);
  };

  /**
   * UpdateModelMixin with UserCredentialSerializer: of its fields only `status` and `date_override` are writable;
   * anything else in the body is ignored. A partial update (PATCH) may omit status, a full one (PUT) too (the model
   * field has a default). Every save stamps `modified` (auto_now).
   */
  const update = (req: SimRequest): SimResponse => {
    const who = access.credentials(req, 'update');
    if (!('clientId' in who)) return who;
    const row = rowOfUuid(data, req.params.uuid);
    if (row < 0) return notFound();
    const body = parseBody(req);
    if (!body.ok) return body.response;
    if (!isObject(body.value)) return jsonResponse(400, { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(body.value)}.`] });
    const b = body.value;
    let s = data.credentials.status[row] as number;
    if ('status' in b) {
      if (b.status === null) return jsonResponse(400, { status: ['This field may not be null.'] });
      s = typeof b.status === 'string' ? STATUSES.indexOf(b.status as (typeof STATUSES)[number]) : -1;
      if (s < 0) return jsonResponse(400, { status: [`"${pyStr(b.status)}" is not a valid choice.`] });
    }
    // A date_override object is a nested write, which ModelSerializer.update refuses with an AssertionError
    // (raise_errors_on_nested_writes): a 500. null passes and changes nothing here. (**assumed** from DRF's code.)
    if (isObject(b.date_override) || Array.isArray(b.date_override)) return serverErrorPage();
    setStatus(data, row, s, clockUs(req.now));
    return jsonResponse(200, item(row, req));
  };

  return [
    { method: 'GET', path: '/api/v2/credentials/', doc: 'List credentials (20 a page; page_size is ignored): page, username, status, program_uuid, type.', handle: list },
    {
      method: 'GET',
      path: '/api/v2/credentials/:uuid/',
      doc: 'One credential by uuid.',
      handle(req) {
        const who = access.credentials(req, 'retrieve');
        if (!('clientId' in who)) return who;
        const row = rowOfUuid(data, req.params.uuid);
        return row < 0 ? notFound() : jsonResponse(200, item(row, req));
      },
    },
    { method: 'PATCH', path: '/api/v2/credentials/:uuid/', doc: 'Change status (awarded | revoked); other fields are ignored.', handle: update },
    { method: 'PUT', path: '/api/v2/credentials/:uuid/', doc: 'As PATCH (status is the only writable field).', handle: update },
    {
      method: 'DELETE',
      path: '/api/v2/credentials/:uuid/',
      doc: 'Revoke (not delete) a credential: 200 with the revoked credential.',
      handle(req) {
        const who = access.credentials(req, 'destroy');
        if (!('clientId' in who)) return who;
        const row = rowOfUuid(data, req.params.uuid);
        if (row < 0) return notFound();
        // CredentialViewSet.perform_destroy -> instance.revoke(); destroy() then answers the serialized credential.
        setStatus(data, row, STATUSES.indexOf('revoked'), clockUs(req.now));
        return jsonResponse(200, item(row, req));
      },
    },
  ];
}
