/**
 * What the Credentials API does not say: titles. A credential names only a program uuid or a course
 * run key; the titles live in the catalog (Open edX course-discovery). The sandbox serves a small,
 * read-only slice of the discovery API on the same host (same JWT, same throttle) so a connector can
 * fill `achievement.title`, plus the public certificate page and PDF behind each credential.
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { ApiContext } from './api.ts';
import { lastParam, notFound, rowOfUuid } from './api.ts';
import { canonicalUuid, MODES, type Catalog } from './catalog.ts';
import { isWindow, pageResponse, pageWindow } from './drf.ts';
import { availableDateJson, certificateHtml, certificatePdf } from './present.ts';

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

export function discoveryRoutes(ctx: ApiContext): SimRoute[] {
  const { data, auth } = ctx;
  const { catalog } = data;
  const guarded =
    (inner: (req: SimRequest) => SimResponse) =>
    (req: SimRequest): SimResponse => {
      const who = auth.guard(req);
      return 'clientId' in who ? inner(req) : who;
    };
  const paged = (req: SimRequest, items: number[], toJson: (i: number) => unknown): SimResponse => {
    const w = pageWindow(req, items.length, ctx.pages);
    return isWindow(w) ? pageResponse(w, items.slice(w.start, w.end).map(toJson)) : w;
  };
  return [
    {
      method: 'GET',
      path: '/api/v1/programs',
      doc: 'Discovery (sandbox): programs with their courses and runs; ?uuids=a,b filters.',
      handle: guarded((req) => {
        const wanted = commaList(req, 'uuids')?.map((u) => canonicalUuid(u));
        const items = catalog.programs.flatMap((p, i) => (!wanted || wanted.includes(p.uuid) ? [i] : []));
        return paged(req, items, (i) => programJson(catalog, i));
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/programs/:uuid',
      doc: 'Discovery (sandbox): one program by uuid.',
      handle: guarded((req) => {
        const p = catalog.programByUuid.get(canonicalUuid(req.params.uuid ?? '') ?? '');
        return p === undefined ? notFound() : jsonResponse(200, programJson(catalog, p));
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/course_runs',
      doc: 'Discovery (sandbox): course runs with their course title; ?keys=a,b filters (encode + as %2B).',
      handle: guarded((req) => {
        const wanted = commaList(req, 'keys');
        const items = wanted ? wanted.flatMap((k) => catalog.runByKey.get(k) ?? []) : catalog.runs.map((_, i) => i);
        return paged(req, items, (i) => runJson(catalog, i));
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/course_runs/:key',
      doc: 'Discovery (sandbox): one course run by key.',
      handle: guarded((req) => {
        const r = catalog.runByKey.get(req.params.key ?? '');
        return r === undefined ? notFound() : jsonResponse(200, runJson(catalog, r));
      }),
    },
    {
      method: 'GET',
      path: '/credentials/:hex',
      doc: 'certificate_url: the public certificate page (awarded credentials only).',
      handle(req) {
        const row = rowOfUuid(data, req.params.hex);
        // Upstream renders only awarded credentials; a revoked one is "not found" to the public.
        if (row < 0 || data.credentials.status[row] !== 0) return { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<h1>Not Found</h1>\n' };
        return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: certificateHtml(data, row) };
      },
    },
    {
      method: 'GET',
      path: '/credentials/:hex/download',
      doc: 'download_url: the certificate as PDF (any credential the API lists).',
      handle(req) {
        const row = rowOfUuid(data, req.params.hex);
        if (row < 0) return notFound();
        return { status: 200, headers: { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="credential-${req.params.hex ?? ''}.pdf"` }, body: certificatePdf(data, row) };
      },
    },
  ];
}
