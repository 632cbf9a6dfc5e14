/**
 * Compact records -> FrontCore JSON, exactly in the shapes of frontcore-diplomas.txt (diplomas)
 * and frontcore-notes.md (participants). Datetimes are zone-less wall-clock time in the account's
 * zone (Europe/Oslo), `YYYY-MM-DD HH:mm:ss`.
 */
import { addDays } from '../common/world.ts';
import { COURSE_SPECS, CUSTOMERS, LOCATIONS, NATIONALITIES, PASSED_NOTES, POSITIONS } from './catalog.ts';
import { FLAG, type Course, type Coursedate, type FrontcoreData, type Holder } from './model.ts';
import type { DownloadTokens } from './tokens.ts';
import type { ZonelessClock } from './zoneless.ts';

/** A user's identifying fields as FrontCore shows them now (holder data plus control-route edits). */
export interface UserIdentity {
  holder: Holder;
  firstname: string;
  lastname: string;
  email: string;
  date_of_birth: string;
  national_identification_number: string | null;
  phone: string | null;
}

export interface Presenter {
  zc: ZonelessClock;
  identity(u: number): UserIdentity;
  user(u: number): Record<string, unknown>;
  serial(d: number): string | null;
  randomCertificateNumber(d: number): string;
  diplomaItem(d: number, origin: string, expiresAtSec: number): Record<string, unknown>;
  participant(p: number, withAttendance: boolean, nowMs: number): Record<string, unknown>;
  statusSummary(d: number): Record<string, unknown>;
  courseOf(d: number): Course;
  coursedateOf(d: number): Coursedate;
  userOf(d: number): number;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function createPresenter(data: FrontcoreData, zc: ZonelessClock, tokens: DownloadTokens): Presenter {
  const fmt = (ms: number): string | null => (ms === 0 ? null : zc.format(ms));
  const coursedateOfParticipant = (p: number): Coursedate => data.coursedates[data.participants.coursedate[p] as number] as Coursedate;
  const coursedateOf = (d: number): Coursedate => coursedateOfParticipant(data.diplomas.participant[d] as number);
  const courseOf = (d: number): Course => data.courses[coursedateOf(d).course] as Course;
  const userOf = (d: number): number => data.participants.user[data.diplomas.participant[d] as number] as number;

  const identity = (u: number): UserIdentity => {
    const holder = data.holders[data.users.holder[u] as number] as Holder;
    const second = data.users.second[u] === 1;
    const o = data.userOverrides.get(u) ?? {};
    return {
      holder,
      firstname: o.firstname ?? holder.firstName,
      lastname: o.lastname ?? holder.lastName,
      // A second account is a private booking under the private address, without a NIN or phone.
      email: o.email ?? (second ? (holder.secondEmail ?? holder.email) : holder.email),
      date_of_birth: o.date_of_birth ?? holder.dateOfBirth,
      national_identification_number: o.national_identification_number !== undefined ? o.national_identification_number : second ? null : holder.nationalId,
      phone: o.phone !== undefined ? o.phone : second ? null : holder.phone,
    };
  };

  const user = (u: number): Record<string, unknown> => {
    const who = identity(u);
    const employeeNo = data.users.employeeNo[u] as number;
    return {
      id: data.users.id[u],
      firstname: who.firstname,
      lastname: who.lastname,
      email: who.email,
      phone: who.phone,
      date_of_birth: who.date_of_birth,
      gender: who.holder.gender,
      nationality: NATIONALITIES[data.users.nationality[u] as number] ?? null,
      national_identification_number: who.national_identification_number,
      position: POSITIONS[data.users.position[u] as number] ?? null,
      company_employee_number: employeeNo === 0 ? null : String(employeeNo),
      created_at: fmt(data.users.createdAt[u] as number),
      updated_at: fmt(data.users.updatedAt[u] as number),
    };
  };

  const serial = (d: number): string | null => {
    const o = data.diplomaOverrides.get(d);
    if (o && o.serial !== undefined) return o.serial;
    const year = data.diplomas.serialYear[d] as number;
    if (year === 0) return null;
    // The prefix was fixed when the diploma was issued: renaming a course later does not change serials.
    const prefix = (COURSE_SPECS[coursedateOf(d).course]?.reference ?? 'COURSE').replace(/-[^-]*$/, '');
    return `${year}-${prefix}-${String(data.diplomas.serialSeq[d]).padStart(3, '0')}`;
  };

  const randomCertificateNumber = (d: number): string => {
    const v = data.diplomas.rcn[d] as number;
    const l = Math.floor(v / 1_000_000) % 17_576;
    return `${LETTERS[Math.floor(l / 676)]}${LETTERS[Math.floor(l / 26) % 26]}${LETTERS[l % 26]}${String(v % 1_000_000).padStart(6, '0')}`;
  };

  const courseJson = (c: Course): Record<string, unknown> => ({ id: c.id, title: c.title, reference: c.reference, created_at: fmt(c.createdAt), updated_at: fmt(c.updatedAt) });

  const coursedateJson = (cd: Coursedate): Record<string, unknown> => {
    const loc = LOCATIONS[cd.location];
    return {
      id: cd.id,
      start_at: fmt(cd.startAt),
      end_at: fmt(cd.endAt),
      deadline_at: fmt(cd.deadlineAt),
      location: loc ? { id: loc.id, title: loc.title, address: loc.address, zipcode: loc.zipcode, city: loc.city, country: loc.country } : null,
    };
  };

  const diplomaItem = (d: number, origin: string, expiresAtSec: number): Record<string, unknown> => {
    const t = data.diplomas;
    const u = userOf(d);
    const userId = data.users.id[u] as number;
    const id = t.id[d] as number;
    const flags = t.flags[d] as number;
    const o = data.diplomaOverrides.get(d);
    return {
      id,
      participant_id: data.participants.id[t.participant[d] as number],
      user: user(u),
      course: courseJson(courseOf(d)),
      coursedate: coursedateJson(coursedateOf(d)),
      passed_note: o && o.passed_note !== undefined ? o.passed_note : (PASSED_NOTES[t.note[d] as number] ?? null),
      is_participated: (flags & FLAG.participated) !== 0,
      is_completed: (flags & FLAG.completed) !== 0,
      is_passed: (flags & FLAG.passed) !== 0,
      is_assessment_completed: (flags & FLAG.assessment) !== 0,
      is_diploma_printed: (flags & FLAG.printed) !== 0,
      is_sent: (flags & FLAG.sent) !== 0,
      random_certificate_number: randomCertificateNumber(d),
      serial: serial(d),
      result_updated_at: fmt(t.resultUpdatedAt[d] as number),
      created_at: fmt(t.createdAt[d] as number),
      updated_at: fmt(t.updatedAt[d] as number),
      deleted_at: fmt(t.deletedAt[d] as number),
      links: {
        download: `${origin}/v2/public/course-users/${userId}/diplomas/${id}/download?token=${tokens.sign(userId, id, expiresAtSec)}`,
        stream: `${origin}/v2/course-users/${userId}/diplomas/${id}/download?stream=true`,
      },
    };
  };

  const attendance = (p: number, nowMs: number): { date: string; attended: boolean | null }[] => {
    const cd = coursedateOfParticipant(p);
    const days = data.courses[cd.course]?.days ?? 1;
    const first = zc.date(cd.startAt);
    const completed = data.participants.completed[p] === 1;
    const id = data.participants.id[p] as number;
    return Array.from({ length: days }, (_, i) => {
      const date = addDays(first, i);
      const over = cd.startAt + i * 86_400_000 <= nowMs;
      // Not-completed participants missed some days: a fixed pattern from the ids, no randomness at serve time.
      return { date, attended: !over ? null : completed || (id + i) % 3 === 0 };
    });
  };

  const participant = (p: number, withAttendance: boolean, nowMs: number): Record<string, unknown> => {
    const t = data.participants;
    const u = t.user[p] as number;
    const cd = coursedateOfParticipant(p);
    const course = data.courses[cd.course] as Course;
    const d = t.diploma[p] as number;
    const customer = CUSTOMERS[data.users.customer[u] as number];
    const who = identity(u);
    // Private bookings are booked by the participant themself; company bookings by the customer's contact.
    const booker = customer ? customer.contact : { firstname: who.firstname, lastname: who.lastname, email: who.email, phone: who.phone };
    const out: Record<string, unknown> = {
      id: t.id[p],
      course_id: course.id,
      coursedate_id: cd.id,
      user_id: data.users.id[u],
      customer_id: customer?.id ?? null,
      completed: t.completed[p] === 1,
      certificate_issued_at: d >= 0 ? fmt(data.diplomas.createdAt[d] as number) : null,
      archived_at: fmt(t.archivedAt[p] as number),
      created_at: fmt(t.createdAt[p] as number),
      updated_at: fmt(t.updatedAt[p] as number),
      course: { id: course.id, title: course.title, reference: course.reference },
      coursedate: { id: cd.id, start_at: fmt(cd.startAt), end_at: fmt(cd.endAt) },
      user: user(u),
      booker_firstname: booker.firstname,
      booker_lastname: booker.lastname,
      booker_email: booker.email,
      booker_phone: booker.phone,
      booker_company: customer?.name ?? null,
    };
    if (withAttendance) out.attendance = attendance(p, nowMs);
    return out;
  };

  const statusSummary = (d: number): Record<string, unknown> => {
    const c = courseOf(d);
    const cd = coursedateOf(d);
    return {
      id: data.diplomas.id[d],
      participant_id: data.participants.id[data.diplomas.participant[d] as number],
      user_id: data.users.id[userOf(d)],
      course: { id: c.id, title: c.title, reference: c.reference },
      coursedate: { id: cd.id, start_at: fmt(cd.startAt), end_at: fmt(cd.endAt) },
      serial: serial(d),
      random_certificate_number: randomCertificateNumber(d),
      created_at: fmt(data.diplomas.createdAt[d] as number),
    };
  };

  return { zc, identity, user, serial, randomCertificateNumber, diplomaItem, participant, statusSummary, courseOf, coursedateOf, userOf };
}
