/**
 * `POST /api/credentials/v1/learner_cert_status/` and `.../bulk_learner_cert_status/`
 * (credentials/apps/credentials/rest_api/v1/views.py, answers from single_learner_cert_status and
 * get_learner_course_run_status in credentials/apps/records/api.py): a learner's earned course-run
 * certificates among the courses (course UUIDs) and course runs (keys or uuids) asked for. Python's
 * truthiness and `in` decide, as upstream: the views validate nothing beyond "exactly one of
 * username / lms_user_id", and what would raise in Python answers Django's 500 page here.
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { ApiContext } from './api.ts';
import { KIND_RUN, type OpenedxData } from './data.ts';
import { badRequestPage, serverErrorPage } from './django.ts';
import { isObject, parseBody } from './drf.ts';
import { statusEntryJson, type StatusEntryJson } from './present.ts';

export interface StatusAnswer {
  lms_user_id: unknown;
  username: unknown;
  status: StatusEntryJson[];
}

/** Python's bool(): None, "", 0, False, [] and {} are false. */
const truthy = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== '' && v !== 0 && v !== false && !(Array.isArray(v) && v.length === 0) && !(isObject(v) && Object.keys(v).length === 0);

/** Why a query cannot be answered: BadRequest (400), or a Python exception (500). */
type Failure = 'bad_request' | 'crash';

/** Python's `x in container` for the `courses` / `course_runs` value; 'crash' where Python raises TypeError. */
function membership(container: unknown): ((x: string) => boolean) | null | 'crash' {
  if (!truthy(container)) return null;
  if (Array.isArray(container)) return (x) => container.includes(x);
  if (typeof container === 'string') return (x) => container.includes(x);
  if (isObject(container)) return (x) => x in container;
  return 'crash';
}

function answer(data: OpenedxData, entry: Record<string, unknown>, nowMs: number): StatusAnswer | Failure {
  const { username, lms_user_id: lmsUserId } = entry;
  // single_learner_cert_status: `(username and lms_user_id) or not (username or lms_user_id)` -> BadRequest.
  if (truthy(username) === truthy(lmsUserId)) return 'bad_request';
  const users = data.users;
  let u: number | undefined;
  if (truthy(username)) {
    if (typeof username !== 'string') return 'crash';
    u = users.byUsername.get(username);
  } else {
    // User.objects.get(lms_user_id=...): an integer or a numeric string; anything else raises in the lookup.
    const id = typeof lmsUserId === 'number' && Number.isInteger(lmsUserId) ? lmsUserId : typeof lmsUserId === 'string' && /^\s*[+-]?\d+\s*$/.test(lmsUserId) ? Number(lmsUserId) : NaN;
    if (Number.isNaN(id)) return 'crash';
    u = users.byLmsId.get(id);
  }
  // An unknown learner is not an error: 200 with an empty status, and what was asked echoed as sent.
  if (u === undefined) return { lms_user_id: lmsUserId ?? null, username: username ?? null, status: [] };
  const courses = membership(entry.courses);
  const runs = membership(entry.course_runs);
  const t = data.credentials;
  const { catalog } = data;
  const status: StatusEntryJson[] = [];
  for (const row of users.credentials[u] ?? []) {
    // get_credentials: awarded course-run credentials, filter_visible (certificate_available_date passed or none).
    if (t.kind[row] !== KIND_RUN || t.status[row] !== 0) continue;
    const run = catalog.runs[t.target[row] as number];
    if (!run || (run.certificateAvailableMs !== null && run.certificateAvailableMs > nowMs)) continue;
    const courseUuid = catalog.courses[run.course]?.uuid ?? '';
    // `(course_ids and uuid in course_ids) or (course_runs and (run uuid in ... or run key in ...))`, evaluated per
    // credential, so a bad container only raises once a credential reaches it. No courses and no course_runs is not an
    // error upstream: nothing matches, the status is empty.
    if (courses === 'crash') return 'crash';
    if (courses?.(courseUuid)) {
      status.push(statusEntryJson(data, row));
      continue;
    }
    if (runs === 'crash') return 'crash';
    if (runs?.(run.uuid) || runs?.(run.key)) status.push(statusEntryJson(data, row));
  }
  // Asked by username: lms_user_id is the user's; asked by lms_user_id: the value as sent, and the user's username.
  return { lms_user_id: truthy(username) ? (users.lmsUserId[u] ?? null) : lmsUserId, username: users.username[u] ?? null, status };
}

export function learnerStatusRoutes(ctx: ApiContext): SimRoute[] {
  const { data, access } = ctx;
  const single = (req: SimRequest): SimResponse => {
    const who = access.learnerStatus(req);
    if (!('clientId' in who)) return who;
    const body = parseBody(req);
    if (!body.ok) return body.response;
    // `request.data.get(...)` on a list or a scalar: AttributeError.
    if (!isObject(body.value)) return serverErrorPage();
    const out = answer(data, body.value, req.now.getTime());
    // The view catches BadRequest and answers Response(status=400): no body, so DRF drops the Content-Type too.
    if (out === 'bad_request') return { status: 400, body: '' };
    if (out === 'crash') return serverErrorPage();
    return jsonResponse(200, out);
  };
  const bulk = (req: SimRequest): SimResponse => {
    const who = access.learnerStatus(req);
    if (!('clientId' in who)) return who;
    const body = parseBody(req);
    if (!body.ok) return body.response;
    const v = body.value;
    // `for req in request.data: req.get(...)`: an empty body or {} iterates nothing; a non-empty object iterates its
    // keys (strings, no .get), a number or null is not iterable: 500.
    if (v === '' || (isObject(v) && Object.keys(v).length === 0)) return jsonResponse(200, []);
    if (!Array.isArray(v)) return serverErrorPage();
    const answers: StatusAnswer[] = [];
    for (const entry of v) {
      if (!isObject(entry)) return serverErrorPage();
      const out = answer(data, entry, req.now.getTime());
      // BadRequest is not caught here: it leaves the view and Django answers its plain 400 page for the whole list.
      if (out === 'bad_request') return badRequestPage();
      if (out === 'crash') return serverErrorPage();
      answers.push(out);
    }
    return jsonResponse(200, answers);
  };
  return [
    { method: 'POST', path: '/api/credentials/v1/learner_cert_status/', doc: "One learner's earned course-run certificates among courses / course_runs.", handle: single },
    { method: 'POST', path: '/api/credentials/v1/bulk_learner_cert_status/', doc: 'A list of learner_cert_status queries; one bad entry fails all (400 HTML).', handle: bulk },
  ];
}
