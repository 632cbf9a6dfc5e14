/**
 * What the Credentials API does not say: titles. A credential names only a program uuid or a course
 * run key; the titles live in the catalog, Open edX course-discovery: a separate Django service on its
 * own host (the Credentials service serves no /api/v1/programs/). This is a small, read-only slice of
 * it on its own SimServer, trusting the same LMS JWTs, so a connector can fill `achievement.title`.
 * Its details (fields, `page_size` honoured up to 100, no throttle) are **assumed**.
 */
import { createSimServer, jsonResponse, type SimRequest, type SimResponse, type SimRoute, type SimServer } from '../common/server.ts';
import type { Access } from './access.ts';
import { lastParam, notFound } from './api.ts';
import { canonicalUuid, MODES, type Catalog } from './catalog.ts';
import type { OpenedxData } from './data.ts';
import { isWindow, pageResponse, pageWindow, type PageSettings } from './drf.ts';
import { availableDateJson } from './present.ts';

const isoOrNull = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

function runJson(catalog: Catalog, r: number): Record<string, unknown> {
  const run = catalog.runs[r];
  const course = catalog.courses[run?.course ?? 0];
  return {
    key: run?.key,
    uuid: run?.uuid,
    title: course?.title,
    course: course?.key,
    course_uuid: course?.uuid,
    start: run ? isoOrNull(run.startMs) : null,
    end: run ? isoOrNull(run.endMs) : null,
    type: MODES[run?.mode ?? 0],
    certificate_available_date: availableDateJson(run?.certificateAvailableMs ?? null),
  };
}

function programJson(catalog: Catalog, p: number): Record<string, unknown> {
  const program = catalog.programs[p];
  return {
    uuid: program?.uuid,
    title: program?.title,
    type: program?.type,
    status: 'active',
    courses: (program?.courses ?? []).map((c) => {
      const course = catalog.courses[c];
      return { key: course?.key, uuid: course?.uuid, title: course?.title, course_runs: (course?.runs ?? []).map((r) => runJson(catalog, r)) };
    }),
  };
}

/** `?uuids=a,b` / `?keys=a,b` as a comma list; absent means all. */
function commaList(req: SimRequest, name: string): string[] | undefined {
  const v = lastParam(req, name);
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** course-discovery pages with DRF's PageNumberPagination and a `page_size` parameter (**assumed**). */
export const DISCOVERY_PAGES: PageSettings = { pageSize: 20, pageSizeQuery: { param: 'page_size', max: 100 } };

function discoveryRoutes(data: OpenedxData, access: Access): SimRoute[] {
  const { catalog } = data;
  const guarded =
    (inner: (req: SimRequest) => SimResponse) =>
    (req: SimRequest): SimResponse => {
      const who = access.authenticated(req);
      return 'clientId' in who ? inner(req) : who;
    };
  const paged = (req: SimRequest, items: number[], toJson: (i: number) => unknown): SimResponse => {
    const w = pageWindow(req, items.length, DISCOVERY_PAGES);
    return isWindow(w) ? pageResponse(w, items.slice(w.start, w.end).map(toJson)) : w;
  };
  return [
    {
      method: 'GET',
      path: '/api/v1/programs/',
      doc: 'Programs with their courses and runs; ?uuids=a,b filters.',
      handle: guarded((req) => {
        const wanted = commaList(req, 'uuids')?.map((u) => canonicalUuid(u));
        const items = catalog.programs.flatMap((p, i) => (!wanted || wanted.includes(p.uuid) ? [i] : []));
        return paged(req, items, (i) => programJson(catalog, i));
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/programs/:uuid/',
      doc: 'One program by uuid.',
      handle: guarded((req) => {
        const p = catalog.programByUuid.get(canonicalUuid(req.params.uuid ?? '') ?? '');
        return p === undefined ? notFound() : jsonResponse(200, programJson(catalog, p));
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/course_runs/',
      doc: 'Course runs with their course title; ?keys=a,b filters (encode + as %2B).',
      handle: guarded((req) => {
        const wanted = commaList(req, 'keys');
        const items = wanted ? wanted.flatMap((k) => catalog.runByKey.get(k) ?? []) : catalog.runs.map((_, i) => i);
        return paged(req, items, (i) => runJson(catalog, i));
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/course_runs/:key/',
      doc: 'One course run by key.',
      handle: guarded((req) => {
        const r = catalog.runByKey.get(req.params.key ?? '');
        return r === undefined ? notFound() : jsonResponse(200, runJson(catalog, r));
      }),
    },
  ];
}

/**
 * The discovery service as its own server (same clock, same token trust as the Credentials host). Django too, so
 * APPEND_SLASH holds there as well (**assumed**).
 */
export function createDiscoveryServer(opts: { data: OpenedxData; access: Access; clock?: () => Date }): SimServer {
  return createSimServer({
    name: 'openedx-discovery',
    ...(opts.clock ? { clock: opts.clock } : {}),
    appendSlash: true,
    routes: discoveryRoutes(opts.data, opts.access),
    // The discovery service publishes no certificates.
    truth: () => [],
    errorBody: (status, message) => ({ detail: status === 429 ? 'Request was throttled.' : status === 404 ? 'Not found.' : `${message.replace(/\.$/, '')}.` }),
  });
}
