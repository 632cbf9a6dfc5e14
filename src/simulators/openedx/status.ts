/**
 * `POST /api/credentials/v1/learner_cert_status/` and `.../bulk_learner_cert_status/`: a learner's
 * earned course-run certificates among the courses (course UUIDs) and course runs (keys) asked for.
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { ApiContext } from './api.ts';
import { drfError } from './auth.ts';
import { KIND_RUN, type OpenedxData } from './data.ts';
import { isObject, parseBody, pythonType } from './drf.ts';
import { statusEntryJson, type StatusEntryJson } from './present.ts';

export interface StatusAnswer {
  lms_user_id: unknown;
  username: string | null;
  status: StatusEntryJson[];
}

type Query = { lmsUserId: unknown; username: string | undefined; courses: string[]; runs: string[] };

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && v !== 0 && v !== false;

/** One request object checked against the doc's two rules; a string is the reason it is refused. */
function readQuery(entry: unknown): Query | string {
  if (!isObject(entry)) return `Expected an object but got type "${pythonType(entry)}".`;
  // "You must include exactly one of lms_user_id or username."
  if (present(entry.username) === present(entry.lms_user_id)) return 'You must include exactly one of lms_user_id or username.';
  if (present(entry.username) && typeof entry.username !== 'string') return 'username must be a string.';
  const lists: Record<'courses' | 'course_runs', string[]> = { courses: [], course_runs: [] };
  for (const name of ['courses', 'course_runs'] as const) {
    const v = entry[name];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return `${name} must be a list of strings.`;
    lists[name] = v;
  }
  // "You must include at least one of courses and course_runs, and you may include a mix of both."
  if (lists.courses.length === 0 && lists.course_runs.length === 0) return 'You must include at least one of courses and course_runs.';
  return { lmsUserId: present(entry.lms_user_id) ? entry.lms_user_id : undefined, username: present(entry.username) ? (entry.username as string) : undefined, courses: lists.courses, runs: lists.course_runs };
}

function answer(data: OpenedxData, q: Query, nowMs: number): StatusAnswer {
  const users = data.users;
  let u: number | undefined;
  if (q.username !== undefined) u = users.byUsername.get(q.username);
  else {
    const id = typeof q.lmsUserId === 'number' ? q.lmsUserId : typeof q.lmsUserId === 'string' && /^\d+$/.test(q.lmsUserId) ? Number(q.lmsUserId) : NaN;
    u = users.byLmsId.get(id);
  }
  // An unknown learner is not an error: 200 with an empty status, and null for what was not asked.
  if (u === undefined) return { lms_user_id: q.username !== undefined ? null : q.lmsUserId, username: q.username ?? null, status: [] };
  const t = data.credentials;
  const { catalog } = data;
  const courses = new Set(q.courses.map((c) => c.toLowerCase()));
  const runs = new Set(q.runs);
  const status: StatusEntryJson[] = [];
  for (const row of users.credentials[u] ?? []) {
    // Only earned course-run certificates: awarded, and visible (certificate_available_date passed).
    if (t.kind[row] !== KIND_RUN || t.status[row] !== 0) continue;
    const run = catalog.runs[t.target[row] as number];
    if (!run || (run.certificateAvailableMs !== null && run.certificateAvailableMs > nowMs)) continue;
    const courseUuid = catalog.courses[run.course]?.uuid ?? '';
    // Upstream matches course_runs against the run key and also against the run uuid.
    if (courses.has(courseUuid) || runs.has(run.key) || runs.has(run.uuid)) status.push(statusEntryJson(data, row));
  }
  return { lms_user_id: users.lmsUserId[u] ?? null, username: users.username[u] ?? null, status };
}

export function learnerStatusRoutes(ctx: ApiContext): SimRoute[] {
  const { data, auth } = ctx;
  const single = (req: SimRequest): SimResponse => {
    const who = auth.guard(req);
    if (!('clientId' in who)) return who;
    const body = parseBody(req);
    if (!body.ok) return body.response;
    const q = readQuery(body.value);
    if (typeof q === 'string') return drfError(400, q);
    return jsonResponse(200, answer(data, q, req.now.getTime()));
  };
  const bulk = (req: SimRequest): SimResponse => {
    const who = auth.guard(req);
    if (!('clientId' in who)) return who;
    const body = parseBody(req);
    if (!body.ok) return body.response;
    if (!Array.isArray(body.value)) return drfError(400, `Expected a list of items but got type "${pythonType(body.value)}".`);
    const queries: Query[] = [];
    for (const [i, entry] of body.value.entries()) {
      const q = readQuery(entry);
      // One bad entry fails the whole request (upstream raises BadRequest out of the loop).
      if (typeof q === 'string') return drfError(400, `Entry ${i}: ${q}`);
      queries.push(q);
    }
    return jsonResponse(200, queries.map((q) => answer(data, q, req.now.getTime())));
  };
  return [
    { method: 'POST', path: '/api/credentials/v1/learner_cert_status', doc: "One learner's earned course-run certificates among courses / course_runs.", handle: single },
    { method: 'POST', path: '/api/credentials/v1/bulk_learner_cert_status', doc: 'A list of learner_cert_status queries; one bad entry fails all.', handle: bulk },
  ];
}
