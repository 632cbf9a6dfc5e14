/**
 * Open edX control routes under `/__sim/`: change the world while a test runs. Every credential
 * change stamps `modified` with the server clock (unless the body sets it); a deleted credential
 * disappears from the API (certhub must sweep it).
 */
import { z } from 'zod';
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { Access } from './access.ts';
import { canonicalUuid, MODES } from './catalog.ts';
import { addUser, deleteCredential, findUserCredential, KIND_PROGRAM, KIND_RUN, STATUSES, usernameFor, type OpenedxData } from './data.ts';
import { rowOfUuid } from './api.ts';
import { clockUs, issueCredential, mergeAttributes } from './mutate.ts';
import { availableDateJson, credentialJson, formatDrfDateTime, type ItemShape } from './present.ts';

const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time');
const attribute = z.strictObject({ name: z.string().min(1), value: z.string() });
const status = z.enum(STATUSES);
const grade = z.number().min(0).max(1);
const addBody = z.strictObject({
  person_key: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  person: z.strictObject({ email: z.string().min(3), username: z.string().min(1).optional(), person_key: z.string().min(1).optional(), lms_user_id: z.number().int().positive().optional() }).optional(),
  program_uuid: z.string().optional(),
  course_run_key: z.string().optional(),
  status: status.optional(),
  created: instant.optional(),
  attributes: z.array(attribute).optional(),
  grade: grade.optional(),
});
const patchBody = z.strictObject({
  status: status.optional(),
  created: instant.optional(),
  modified: instant.optional(),
  attributes: z.array(attribute).optional(),
  grade: grade.nullable().optional(),
  date_override: instant.nullable().optional(),
});
const titleBody = z.strictObject({ title: z.string().min(1) });

const fail = (status: number, error: string): SimResponse => jsonResponse(status, { error });
const toUs = (iso: string): number => Date.parse(iso) * 1000;

function parse<T>(schema: z.ZodType<T>, req: SimRequest): { ok: true; value: T } | { ok: false; response: SimResponse } {
  let input: unknown;
  try {
    input = JSON.parse(req.body.toString('utf8') || '{}');
  } catch {
    return { ok: false, response: fail(400, 'body must be JSON') };
  }
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, response: fail(400, r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')) };
}

export function openedxControlRoutes(data: OpenedxData, access: Access, shape: ItemShape): SimRoute[] {
  const { catalog, users, world } = data;
  const t = data.credentials;

  /** The learner a body names: an LMS username, a world person, or a new person. */
  const learner = (b: z.infer<typeof addBody>): number | SimResponse => {
    if ([b.person_key, b.username, b.person].filter((x) => x !== undefined).length !== 1) return fail(400, 'give exactly one of person_key, username, person');
    if (b.username !== undefined) return users.byUsername.get(b.username) ?? fail(404, `no LMS user ${b.username}`);
    if (b.person_key !== undefined) {
      const person = world.people.find((p) => p.key === b.person_key);
      if (!person) return fail(404, `no world person ${b.person_key}`);
      const username = usernameFor(world, person);
      return users.byUsername.get(username) ?? addUser(data, username, data.nextLmsUserId, person.key, person.index);
    }
    const p = b.person as NonNullable<typeof b.person>;
    const username = p.username ?? p.email.trim();
    if (users.byUsername.has(username)) return fail(409, `LMS user ${username} exists; use username`);
    if (p.lms_user_id !== undefined && users.byLmsId.has(p.lms_user_id)) return fail(409, `lms_user_id ${p.lms_user_id} is taken`);
    const id = p.lms_user_id ?? data.nextLmsUserId;
    return addUser(data, username, id, p.person_key ?? `lms-${id}`, -1);
  };

  const catalogJson = (): unknown => ({
    programs: catalog.programs.map((p) => ({ uuid: p.uuid, title: p.title, type: p.type, courses: p.courses.map((c) => catalog.courses[c]?.uuid), course_runs: [...p.runSet].map((r) => catalog.runs[r]?.key) })),
    courses: catalog.courses.map((c) => ({
      uuid: c.uuid,
      key: c.key,
      title: c.title,
      runs: c.runs.map((r) => {
        const run = catalog.runs[r];
        return { uuid: run?.uuid, key: run?.key, mode: MODES[run?.mode ?? 0], certificate_available_date: availableDateJson(run?.certificateAvailableMs ?? null) };
      }),
    })),
  });

  return [
    { method: 'GET', path: '/catalog', doc: 'Programs (uuid, title, courses, runs) and courses (uuid, key, title, runs with key, uuid, mode).', handle: () => jsonResponse(200, catalogJson()) },
    {
      method: 'PATCH',
      path: '/programs/:uuid',
      doc: 'Rename a program {title}. Credentials are not touched (their payload has no title).',
      handle(req) {
        const p = catalog.programByUuid.get(canonicalUuid(req.params.uuid ?? '') ?? '');
        const b = parse(titleBody, req);
        if (p === undefined) return fail(404, 'no such program');
        if (!b.ok) return b.response;
        const program = catalog.programs[p];
        if (program) program.title = b.value.title;
        data.version++;
        return jsonResponse(200, { uuid: program?.uuid, title: program?.title });
      },
    },
    {
      method: 'PATCH',
      path: '/courses/:uuid',
      doc: 'Rename a course {title}. Credentials are not touched (their payload has no title).',
      handle(req) {
        const c = catalog.courseByUuid.get(canonicalUuid(req.params.uuid ?? '') ?? '');
        const b = parse(titleBody, req);
        if (c === undefined) return fail(404, 'no such course');
        if (!b.ok) return b.response;
        const course = catalog.courses[c];
        if (course) course.title = b.value.title;
        data.version++;
        return jsonResponse(200, { uuid: course?.uuid, title: course?.title });
      },
    },
    {
      method: 'GET',
      path: '/users',
      doc: 'LMS users: username, lms_user_id, person_key, credential uuids. ?username= or ?person_key= narrows.',
      handle(req) {
        const username = req.query.get('username');
        const personKey = req.query.get('person_key');
        const out = [];
        for (let u = 0; u < users.username.length; u++) {
          if ((username !== null && users.username[u] !== username) || (personKey !== null && users.personKey[u] !== personKey)) continue;
          out.push({ username: users.username[u], lms_user_id: users.lmsUserId[u], person_key: users.personKey[u], credentials: (users.credentials[u] ?? []).map((r) => t.uuid[r]) });
        }
        return jsonResponse(200, out);
      },
    },
    {
      method: 'POST',
      path: '/credentials',
      doc: 'Add a credential: {person_key | username | person:{email,...}, program_uuid | course_run_key, status?, created?, attributes?, grade?}.',
      handle(req) {
        const b = parse(addBody, req);
        if (!b.ok) return b.response;
        const v = b.value;
        if ((v.program_uuid === undefined) === (v.course_run_key === undefined)) return fail(400, 'give exactly one of program_uuid, course_run_key');
        const kind = v.program_uuid !== undefined ? KIND_PROGRAM : KIND_RUN;
        const target = kind === KIND_PROGRAM ? catalog.programByUuid.get(canonicalUuid(v.program_uuid ?? '') ?? '') : catalog.runByKey.get(v.course_run_key ?? '');
        if (target === undefined) return fail(404, kind === KIND_PROGRAM ? 'no such program' : 'no such course run');
        const u = learner(v);
        if (typeof u !== 'number') return u;
        if (findUserCredential(data, u, kind, target) >= 0) return fail(409, 'this learner already has that credential');
        const { row } = issueCredential(data, {
          user: u,
          kind,
          target,
          status: STATUSES.indexOf(v.status ?? 'awarded'),
          attributes: v.attributes ?? [],
          nowUs: clockUs(req.now),
          ...(v.created !== undefined ? { createdUs: toUs(v.created) } : {}),
          ...(v.grade !== undefined ? { gradeBp: Math.round(v.grade * 10_000) } : {}),
        });
        return jsonResponse(201, { credential: credentialJson(data, row, req.origin, shape), lms_user_id: users.lmsUserId[u], person_key: users.personKey[u] });
      },
    },
    {
      method: 'PATCH',
      path: '/credentials/:uuid',
      doc: 'Change a credential: {status?, created?, modified?, attributes? (merged by name), grade? (0..1 or null), date_override? (ISO or null)}; modified defaults to now.',
      handle(req) {
        const row = rowOfUuid(data, req.params.uuid);
        if (row < 0) return fail(404, 'no such credential');
        const b = parse(patchBody, req);
        if (!b.ok) return b.response;
        const v = b.value;
        if (v.status !== undefined) t.status[row] = STATUSES.indexOf(v.status);
        if (v.created !== undefined) t.created[row] = toUs(v.created);
        if (v.attributes !== undefined) t.attributes[row] = mergeAttributes(t.attributes[row] ?? [], v.attributes);
        if (v.grade !== undefined) t.grade[row] = v.grade === null ? -1 : Math.round(v.grade * 10_000);
        if (v.date_override !== undefined) t.dateOverride[row] = v.date_override === null ? -1 : toUs(v.date_override);
        t.modified[row] = v.modified !== undefined ? toUs(v.modified) : clockUs(req.now);
        data.version++;
        return jsonResponse(200, credentialJson(data, row, req.origin, shape));
      },
    },
    {
      method: 'DELETE',
      path: '/credentials/:uuid',
      doc: 'Remove a credential outright: the API lists it no more and answers 404 for it.',
      handle(req) {
        const row = rowOfUuid(data, req.params.uuid);
        if (row < 0) return fail(404, 'no such credential');
        deleteCredential(data, row);
        return jsonResponse(200, { deleted: t.uuid[row], at: formatDrfDateTime(clockUs(req.now)) });
      },
    },
    {
      method: 'POST',
      path: '/tokens/expire',
      doc: 'Every access token issued so far now answers 401 "Signature has expired." (test re-fetch on 401).',
      handle: () => jsonResponse(200, { expired_tokens: access.auth.expireAll() }),
    },
    {
      method: 'POST',
      path: '/throttle/reset',
      doc: 'Forget every client request counted by the throttle.',
      handle: () => {
        access.resetThrottle();
        return jsonResponse(200, { reset: true });
      },
    },
  ];
}
