/**
 * FrontCore control routes under `/__sim/`: change the world while a test runs. Every change is
 * stamped with the server clock (request time) and moves the participant's `updated_at`.
 */
import { z } from 'zod';
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { World } from '../common/world.ts';
import { findById, type FrontcoreData } from './model.ts';
import { addHolder, addParticipant, addUser, deleteDiploma, issueDiploma, patchCourse, patchDiploma, patchUser } from './mutate.ts';
import type { Presenter } from './present.ts';
import { fcError, DEFAULT_TTL_SECONDS } from './api.ts';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
const newPerson = z.strictObject({
  key: z.string().min(1).optional(),
  first_name: z.string().min(1),
  last_name: z.string().min(1),
  email: z.string().min(3),
  date_of_birth: date,
  national_identification_number: z.string().regex(/^\d{11}$/).nullable().optional(),
  phone: z.string().nullable().optional(),
});
const holderFields = {
  person_key: z.string().optional(),
  user_id: z.number().int().optional(),
  person: newPerson.optional(),
  /** With person_key: book under the person's second (private) account, opening one if needed. */
  second_account: z.boolean().optional(),
  course_id: z.number().int().optional(),
  coursedate_id: z.number().int().optional(),
};
const addDiplomaBody = z.strictObject({
  ...holderFields,
  participant_id: z.number().int().optional(),
  serial: z.string().nullable().optional(),
  passed_note: z.string().nullable().optional(),
});
const addParticipantBody = z.strictObject({ ...holderFields, completed: z.boolean().optional() });
const patchDiplomaBody = z.strictObject({
  serial: z.string().nullable().optional(),
  passed_note: z.string().nullable().optional(),
  is_passed: z.boolean().optional(),
  is_sent: z.boolean().optional(),
  created_at: z.string().optional(),
  coursedate_id: z.number().int().optional(),
  deleted_at: z.null().optional(),
});
const patchUserBody = z.strictObject({
  email: z.string().optional(),
  firstname: z.string().min(1).optional(),
  lastname: z.string().min(1).optional(),
  date_of_birth: date.optional(),
  national_identification_number: z.string().regex(/^\d{11}$/).nullable().optional(),
  phone: z.string().nullable().optional(),
});
const patchCourseBody = z.strictObject({ title: z.string().min(1).optional(), reference: z.string().min(1).optional(), touch_participants: z.boolean().optional() });

type Parsed<T> = { ok: true; value: T } | { ok: false; response: SimResponse };

function parse<T>(schema: z.ZodType<T>, req: SimRequest): Parsed<T> {
  let input: unknown;
  try {
    input = JSON.parse(req.body.toString('utf8') || '{}');
  } catch {
    return { ok: false, response: fcError(400, 'body must be JSON') };
  }
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, response: fcError(400, r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')) };
}

export function frontcoreControlRoutes(world: World, data: FrontcoreData, present: Presenter, accounts: ReadonlyMap<string, string>): SimRoute[] {
  const now = (req: SimRequest): number => req.now.getTime();
  const diplomaJson = (d: number, req: SimRequest): SimResponse =>
    jsonResponse(200, present.diplomaItem(d, req.origin, Math.floor(now(req) / 1000) + DEFAULT_TTL_SECONDS));
  const diplomaParam = (req: SimRequest): number => findById(data.diplomas.id, data.diplomas.length, Number(req.params.id));

  /** The user a body names (existing user, world person, or a new person) and the coursedate to book. */
  const resolveBooking = (req: SimRequest, b: z.infer<z.ZodObject<typeof holderFields>>): { u: number; cd: number } | SimResponse => {
    const given = [b.person_key, b.user_id, b.person].filter((x) => x !== undefined).length;
    if (given !== 1) return fcError(400, 'give exactly one of person_key, user_id, person');
    let u: number;
    if (b.user_id !== undefined) {
      u = findById(data.users.id, data.users.length, b.user_id);
      if (u < 0) return fcError(404, `no user ${b.user_id}`);
    } else if (b.person_key !== undefined) {
      let h = data.holders.findIndex((x) => x.key === b.person_key);
      if (h < 0) {
        // A world person FrontCore does not know yet gets their first FrontCore account now.
        const wp = world.people.find((x) => x.key === b.person_key);
        if (!wp) return fcError(404, `no world person ${b.person_key}`);
        h = addHolder(data, { key: wp.key, firstName: wp.firstName, lastName: wp.lastName, dateOfBirth: wp.dateOfBirth, nationalId: wp.nationalId, phone: wp.phone, gender: wp.gender, email: world.emailFor(wp, 'frontcore'), secondEmail: wp.secondFrontcoreEmail, world: wp });
      }
      const accountsOf = data.usersByHolder.get(h) ?? [];
      if (b.second_account === true) {
        if (data.holders[h]?.secondEmail == null) return fcError(400, `${b.person_key} has no second FrontCore email`);
        if (accountsOf.length === 0) addUser(data, h, now(req));
        u = accountsOf[1] ?? addUser(data, h, now(req));
      } else {
        u = accountsOf[0] ?? addUser(data, h, now(req));
      }
    } else {
      const p = b.person as z.infer<typeof newPerson>;
      const key = p.key ?? `frontcore-new-${data.nextIds.user}`;
      const h = addHolder(data, { key, firstName: p.first_name, lastName: p.last_name, dateOfBirth: p.date_of_birth, nationalId: p.national_identification_number ?? null, phone: p.phone ?? null, gender: null, email: p.email, secondEmail: null, world: null });
      u = addUser(data, h, now(req));
    }
    let cd: number;
    if (b.coursedate_id !== undefined) {
      cd = data.coursedates.findIndex((x) => x.id === b.coursedate_id);
      if (cd < 0) return fcError(404, `no coursedate ${b.coursedate_id}`);
    } else {
      const c = b.course_id === undefined ? 0 : data.courses.findIndex((x) => x.id === b.course_id);
      if (c < 0) return fcError(404, `no course ${b.course_id}`);
      // The course's latest coursedate that has started by now, else its first one.
      const list = data.coursedatesByCourse[c] ?? [];
      const started = list.filter((i) => (data.coursedates[i]?.startAt ?? 0) <= now(req));
      cd = started[started.length - 1] ?? list[0] ?? 0;
    }
    return { u, cd };
  };

  return [
    {
      method: 'GET',
      path: '/accounts',
      doc: 'The two FrontCore accounts (API keys) of this simulator; both see the same data, each has its own rate window.',
      handle: () => jsonResponse(200, [...accounts].map(([api_key, name]) => ({ name, api_key }))),
    },
    {
      method: 'POST',
      path: '/diplomas',
      doc: 'Issue a diploma: {participant_id} of an enrolment without one, or {person_key | user_id | person:{first_name,last_name,email,date_of_birth,...}, course_id | coursedate_id, second_account?, serial?, passed_note?}.',
      handle(req) {
        const b = parse(addDiplomaBody, req);
        if (!b.ok) return b.response;
        let p: number;
        if (b.value.participant_id !== undefined) {
          p = findById(data.participants.id, data.participants.length, b.value.participant_id);
          if (p < 0) return fcError(404, `no participant ${b.value.participant_id}`);
          if ((data.participants.diploma[p] as number) >= 0) return fcError(409, `participant ${b.value.participant_id} already has a diploma`);
        } else {
          const booking = resolveBooking(req, b.value);
          if ('status' in booking) return booking;
          p = addParticipant(data, booking.u, booking.cd, true, now(req));
        }
        const opts: { serial?: string | null; passed_note?: string | null } = {};
        if (b.value.serial !== undefined) opts.serial = b.value.serial;
        if (b.value.passed_note !== undefined) opts.passed_note = b.value.passed_note;
        const d = issueDiploma(data, present.zc, p, now(req), opts);
        const out = diplomaJson(d, req);
        return { ...out, status: 201 };
      },
    },
    {
      method: 'POST',
      path: '/participants',
      doc: 'Enrol without a diploma: {person_key | user_id | person, course_id | coursedate_id, completed?}. certificate_issued_at stays null until POST /__sim/diplomas {participant_id}.',
      handle(req) {
        const b = parse(addParticipantBody, req);
        if (!b.ok) return b.response;
        const booking = resolveBooking(req, b.value);
        if ('status' in booking) return booking;
        const p = addParticipant(data, booking.u, booking.cd, b.value.completed ?? false, now(req));
        return jsonResponse(201, present.participant(p, false, now(req)));
      },
    },
    {
      method: 'PATCH',
      path: '/diplomas/:id',
      doc: 'Change a diploma: {serial?, passed_note?, is_passed?, is_sent?, created_at? ("YYYY-MM-DD HH:mm:ss" Oslo), coursedate_id?, deleted_at?: null (restore)}.',
      handle(req) {
        const d = diplomaParam(req);
        if (d < 0) return fcError(404, 'Diploma not found');
        const b = parse(patchDiplomaBody, req);
        if (!b.ok) return b.response;
        const { coursedate_id, created_at, ...rest } = b.value;
        const patch: Parameters<typeof patchDiploma>[2] = { ...rest };
        if (created_at !== undefined) {
          const ms = present.zc.parse(created_at);
          if (ms === null) return fcError(400, 'created_at must be YYYY-MM-DD HH:mm:ss');
          patch.created_at = ms;
        }
        if (coursedate_id !== undefined) {
          const cd = data.coursedates.findIndex((x) => x.id === coursedate_id);
          if (cd < 0) return fcError(404, `no coursedate ${coursedate_id}`);
          patch.coursedate = cd;
        }
        patchDiploma(data, d, patch, now(req));
        return diplomaJson(d, req);
      },
    },
    {
      method: 'DELETE',
      path: '/diplomas/:id',
      doc: 'Delete a diploma the FrontCore way: it stays listed, with deleted_at set.',
      handle(req) {
        const d = diplomaParam(req);
        if (d < 0) return fcError(404, 'Diploma not found');
        deleteDiploma(data, d, now(req));
        return diplomaJson(d, req);
      },
    },
    {
      method: 'PATCH',
      path: '/users/:id',
      doc: 'Change a user: {email?, firstname?, lastname?, date_of_birth?, national_identification_number?, phone?}; moves the updated_at of the user and its participants.',
      handle(req) {
        const u = findById(data.users.id, data.users.length, Number(req.params.id));
        if (u < 0) return fcError(404, 'User not found');
        const b = parse(patchUserBody, req);
        if (!b.ok) return b.response;
        patchUser(data, u, b.value, now(req));
        return jsonResponse(200, present.user(u));
      },
    },
    {
      method: 'PATCH',
      path: '/courses/:id',
      doc: 'Rename a course: {title?, reference?, touch_participants? (default true: participants with a diploma get a new updated_at)}.',
      handle(req) {
        const c = data.courses.findIndex((x) => x.id === Number(req.params.id));
        if (c < 0) return fcError(404, 'Course not found');
        const b = parse(patchCourseBody, req);
        if (!b.ok) return b.response;
        const { touch_participants, ...patch } = b.value;
        patchCourse(data, c, patch, touch_participants ?? true, now(req));
        const course = data.courses[c];
        return jsonResponse(200, { id: course?.id, title: course?.title, reference: course?.reference, updated_at: present.zc.format(course?.updatedAt ?? 0) });
      },
    },
    {
      method: 'GET',
      path: '/catalog',
      doc: 'Courses with their coursedates (ids, titles, references, dates), to pick course_id / coursedate_id from.',
      handle: () =>
        jsonResponse(200, data.courses.map((c, i) => ({
          id: c.id,
          title: c.title,
          reference: c.reference,
          coursedates: (data.coursedatesByCourse[i] ?? []).map((cd) => {
            const x = data.coursedates[cd];
            return { id: x?.id, start_at: present.zc.format(x?.startAt ?? 0), end_at: present.zc.format(x?.endAt ?? 0) };
          }),
        }))),
    },
  ];
}
