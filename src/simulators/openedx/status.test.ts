/**
 * learner_cert_status and bulk_learner_cert_status, against the doc's sentences and upstream's code
 * (credentials/apps/credentials/rest_api/v1/views.py, credentials/apps/records/api.py single_learner_cert_status).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialJson } from './present.ts';
import type { StatusAnswer } from './status.ts';
import { startOpenedx, type Harness } from './openedx.testkit.ts';

interface CatalogJson {
  courses: { uuid: string; key: string; runs: { uuid: string; key: string; mode: string; certificate_available_date: string | null }[] }[];
}
interface UserJson {
  username: string;
  lms_user_id: number;
}

let h: Harness;
let catalog: CatalogJson;
let all: CredentialJson[];
/** A learner with an awarded, visible course-run credential, and that credential's course. */
let learner: UserJson;
let earned: CredentialJson;
let course: CatalogJson['courses'][number];

const SINGLE = '/api/credentials/v1/learner_cert_status/';
const BULK = '/api/credentials/v1/bulk_learner_cert_status/';

beforeAll(async () => {
  h = await startOpenedx({ seed: 'openedx-status' });
  catalog = (await (await h.control('GET', '/catalog')).json()) as CatalogJson;
  all = await h.walk();
  const courseOf = (key: string): CatalogJson['courses'][number] | undefined => catalog.courses.find((c) => c.runs.some((r) => r.key === key));
  const visible = (key: string): boolean => (courseOf(key)?.runs.find((r) => r.key === key)?.certificate_available_date ?? '') < '2026-06-02';
  earned = all.find((c) => c.status === 'awarded' && c.credential.type === 'course-run' && visible(c.credential.course_run_key)) as CredentialJson;
  course = courseOf(earned.credential.type === 'course-run' ? earned.credential.course_run_key : '') as CatalogJson['courses'][number];
  const users = (await (await h.control('GET', `/users?username=${encodeURIComponent(earned.username)}`)).json()) as UserJson[];
  learner = users[0] as UserJson;
});
afterAll(async () => {
  await h.close();
});

const ask = async (path: string, body: unknown): Promise<{ status: number; json: unknown }> => {
  const r = await h.api('POST', path, body);
  const text = await r.text();
  return { status: r.status, json: (r.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as unknown) : text };
};

describe('POST /api/credentials/v1/learner_cert_status/', () => {
  it('"Example Response": {lms_user_id, username, status: [{course_uuid, course_run {uuid, key}, status, type, certificate_available_date, grade}]}', async () => {
    const r = await ask(SINGLE, { username: learner.username, courses: [course.uuid] });
    expect(r.status).toBe(200);
    const a = r.json as StatusAnswer;
    expect(a.lms_user_id).toBe(learner.lms_user_id);
    expect(a.username).toBe(learner.username);
    const entry = a.status.find((s) => earned.credential.type === 'course-run' && s.course_run.key === earned.credential.course_run_key);
    expect(Object.keys(entry ?? {})).toEqual(['course_uuid', 'course_run', 'status', 'type', 'certificate_available_date', 'grade']);
    expect(entry).toMatchObject({ course_uuid: course.uuid, status: 'awarded', type: earned.credential.type === 'course-run' ? earned.credential.mode : '' });
    const graded = all.length > 0 && (await ask(SINGLE, { username: learner.username, courses: catalog.courses.map((c) => c.uuid) })).json as StatusAnswer;
    expect(graded && graded.status.every((s) => s.grade === null || (typeof s.grade.percent_grade === 'number' && typeof s.grade.verified === 'boolean'))).toBe(true);
  });

  it('"You must include exactly one of lms_user_id or username." -> 400 with neither or both, and an EMPTY body (the view answers Response(status=400))', async () => {
    for (const body of [{ courses: [course.uuid] }, { username: learner.username, lms_user_id: learner.lms_user_id, courses: [course.uuid] }, { username: '', lms_user_id: 0 }]) {
      const r = await h.api('POST', SINGLE, body);
      expect(r.status).toBe(400);
      expect(await r.text()).toBe('');
      expect(r.headers.get('content-type')).toBeNull();
    }
    // Python truthiness: an empty username next to an lms_user_id counts as absent, and is echoed back as sent.
    const byId = (await ask(SINGLE, { lms_user_id: learner.lms_user_id, username: '', courses: [course.uuid] })).json as StatusAnswer;
    expect(byId.username).toBe(learner.username);
    expect((await ask(SINGLE, { lms_user_id: 8674309, username: '' })).json).toEqual({ lms_user_id: 8674309, username: '', status: [] });
  });

  it('"You must include at least one of courses and course_runs" is NOT enforced upstream: 200 with an empty status; a mix of both works', async () => {
    expect(await ask(SINGLE, { username: learner.username })).toEqual({ status: 200, json: { lms_user_id: learner.lms_user_id, username: learner.username, status: [] } });
    expect((await ask(SINGLE, { username: learner.username, courses: [], course_runs: [] })).status).toBe(200);
    const key = earned.credential.type === 'course-run' ? earned.credential.course_run_key : '';
    const mixed = (await ask(SINGLE, { username: learner.username, courses: ['4ad04e84-1512-11ee-be56-0242ac120002'], course_runs: [key] })).json as StatusAnswer;
    expect(mixed.status.map((s) => s.course_run.key)).toEqual([key]);
  });

  it('"The courses list should contain a list of course UUIDs." / "The course_runs list should contain a list of course run keys." (a run uuid also matches); Python `in` decides', async () => {
    const key = earned.credential.type === 'course-run' ? earned.credential.course_run_key : '';
    const runUuid = catalog.courses.flatMap((c) => c.runs).find((r) => r.key === key)?.uuid;
    const byCourse = (await ask(SINGLE, { username: learner.username, courses: [course.uuid] })).json as StatusAnswer;
    const byRun = (await ask(SINGLE, { username: learner.username, course_runs: [key] })).json as StatusAnswer;
    const byRunUuid = (await ask(SINGLE, { username: learner.username, course_runs: [runUuid] })).json as StatusAnswer;
    expect(byCourse.status.map((s) => s.course_run.key)).toContain(key);
    expect(byRun.status.every((s) => s.course_run.key === key)).toBe(true);
    expect(byRunUuid.status).toEqual(byRun.status);
    // A course key (not a uuid) in courses matches nothing; the uuid must be spelled as str(UUID) prints it.
    expect(((await ask(SINGLE, { username: learner.username, courses: [course.key] })).json as StatusAnswer).status).toEqual([]);
    expect(((await ask(SINGLE, { username: learner.username, courses: [course.uuid.toUpperCase()] })).json as StatusAnswer).status).toEqual([]);
    // A string is searched as a substring (`key in "..."`); a number raises TypeError: Django's 500 page.
    expect(((await ask(SINGLE, { username: learner.username, course_runs: `${key} and more` })).json as StatusAnswer).status.map((s) => s.course_run.key)).toEqual([key]);
    const crash = await h.api('POST', SINGLE, { username: learner.username, course_runs: 5 });
    expect(crash.status).toBe(500);
    expect(crash.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await h.api('POST', SINGLE, [{ username: learner.username }])).status).toBe(500);
  });

  it('"If the username or lms_user_id has not earned any certificates, this endpoint will return successfully, and the status object will be empty."', async () => {
    const unknownName = await ask(SINGLE, { username: 'sample_user', courses: [course.uuid] });
    expect(unknownName).toEqual({ status: 200, json: { lms_user_id: null, username: 'sample_user', status: [] } });
    const unknownId = await ask(SINGLE, { lms_user_id: 8674309, courses: [course.uuid] });
    expect(unknownId).toEqual({ status: 200, json: { lms_user_id: 8674309, username: null, status: [] } });
    // Revoked credentials are not earned certificates: revoke it and the learner's status is empty for that run.
    await h.control('PATCH', `/credentials/${earned.uuid}`, { status: 'revoked' });
    const key = earned.credential.type === 'course-run' ? earned.credential.course_run_key : '';
    const after = (await ask(SINGLE, { username: learner.username, course_runs: [key] })).json as StatusAnswer;
    expect(after).toEqual({ lms_user_id: learner.lms_user_id, username: learner.username, status: [] });
    await h.control('PATCH', `/credentials/${earned.uuid}`, { status: 'awarded' });
  });

  it('certificate_available_date: a certificate stays out of the status until that date has passed (server clock)', async () => {
    const later = catalog.courses.flatMap((c) => c.runs).find((r) => r.certificate_available_date !== null && r.certificate_available_date > '2026-06-02');
    expect(later).toBeDefined();
    const add = await h.control('POST', '/credentials', { person: { email: 'late.certificate@example.com' }, course_run_key: later?.key, grade: 0.9 });
    expect(add.status).toBe(201);
    const q = { username: 'late.certificate@example.com', course_runs: [later?.key] };
    expect(((await ask(SINGLE, q)).json as StatusAnswer).status).toEqual([]);
    h.advance(Date.parse(later?.certificate_available_date ?? '') - h.now() + 1000);
    const shown = (await ask(SINGLE, q)).json as StatusAnswer;
    expect(shown.status).toHaveLength(1);
    expect(shown.status[0]).toMatchObject({ certificate_available_date: later?.certificate_available_date, grade: { percent_grade: 0.9 } });
  });
});

describe('POST /api/credentials/v1/bulk_learner_cert_status/', () => {
  it('"If the username or lms_user_id has not earned any certificates (or does not exist in the system), the status object will be empty." -> one answer per entry, in order', async () => {
    const r = await ask(BULK, [
      { username: learner.username, courses: [course.uuid] },
      { lms_user_id: 8674309, courses: ['4ad04e84-1513-11ee-be56-0242ac12000f'], course_runs: ['course-v1:edX+ZZ302+2T2023a'] },
    ]);
    expect(r.status).toBe(200);
    const [first, second] = r.json as StatusAnswer[];
    expect(first?.username).toBe(learner.username);
    expect(first?.status.length).toBeGreaterThan(0);
    expect(second).toEqual({ lms_user_id: 8674309, username: null, status: [] });
  });

  it('one bad entry (neither or both of username / lms_user_id) -> 400 for the whole request, as Django\'s plain HTML page (BadRequest is not caught)', async () => {
    const bad = await h.api('POST', BULK, [{ username: learner.username, courses: [course.uuid] }, { courses: [course.uuid] }]);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await bad.text()).toContain('<h1>Bad Request (400)</h1>');
    // No courses / course_runs is fine here too.
    expect((await ask(BULK, [{ username: learner.username }])).status).toBe(200);
    expect(await ask(BULK, [])).toEqual({ status: 200, json: [] });
  });

  it('a body that is not a list: an object is iterated by its keys -> 500 HTML (an empty one -> 200 [])', async () => {
    const crash = await h.api('POST', BULK, { username: learner.username, courses: [course.uuid] });
    expect(crash.status).toBe(500);
    expect(crash.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await crash.text()).toContain('<h1>Server Error</h1>');
    expect(await ask(BULK, {})).toEqual({ status: 200, json: [] });
    expect((await h.api('POST', BULK, null)).status).toBe(500);
  });
});
