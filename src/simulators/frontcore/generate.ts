/**
 * FrontCore's data from the shared world: courses and coursedates, one user per world person that
 * knows FrontCore (plus a second, private account for people with `secondFrontcoreEmail`), their
 * course enrolments (participants) and the diplomas issued for them. Randomness comes only from
 * `world.rng.fork('frontcore')` and every date is relative to `world.options.asOf`, so the same
 * world gives the same data byte for byte.
 */
import type { Rng } from '../common/prng.ts';
import { addDays, type World } from '../common/world.ts';
import { COURSE_SPECS, CUSTOMERS, LOCATIONS, PARTICIPATION_NOTE, PASSED_NOTES, POSITIONS } from './catalog.ts';
import { DiplomaTable, FLAG, ParticipantTable, UserTable, linkParticipantToUser, type Course, type Coursedate, type FrontcoreData, type Holder } from './model.ts';
import { createZonelessClock, toSecond, type ZonelessClock } from './zoneless.ts';

const DAY = 86_400_000;
const SEC = 1000;

function weighted(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((s, w) => s + w, 0);
  let x = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i] as number;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

function local(zc: ZonelessClock, text: string): number {
  const ms = zc.parse(text);
  if (ms === null) throw new Error(`bad local time ${text}`);
  return ms;
}

function makeCatalog(rng: Rng, zc: ZonelessClock, asOf: string, asOfMs: number): { courses: Course[]; coursedates: Coursedate[] } {
  let courseId = 44_700;
  const courses: Course[] = COURSE_SPECS.map((spec) => {
    courseId += rng.int(3, 40);
    const createdAt = toSecond(asOfMs - rng.int(6 * 365 + 30, 9 * 365) * DAY - rng.int(0, 8 * 3600) * SEC);
    const updatedAt = toSecond(createdAt + rng.int(0, Math.floor((asOfMs - createdAt) / DAY)) * DAY);
    return { id: courseId, title: spec.title, reference: spec.reference, days: spec.days, createdAt, updatedAt };
  });
  const dates: Omit<Coursedate, 'id'>[] = [];
  const last = addDays(asOf, 90);
  courses.forEach((course, c) => {
    const popular = (COURSE_SPECS[c]?.weight ?? 1) >= 6;
    let day = addDays(asOf, -6 * 365 - rng.int(0, 20));
    // Every day of the week, weekends too: skipping weekends would make the number of coursedates (and so
    // everything drawn after them) depend on which weekday asOf is, and the world must only shift with it.
    while (day <= last) {
      const startHour = rng.pick(['08', '09']);
      const endDay = addDays(day, course.days - 1);
      dates.push({
        course: c,
        startAt: local(zc, `${day} ${startHour}:00:00`),
        endAt: local(zc, `${endDay} ${startHour === '08' ? '15' : '16'}:00:00`),
        deadlineAt: local(zc, `${addDays(day, -5)} 23:59:59`),
        location: weighted(rng, LOCATIONS.map((l) => l.weight)),
      });
      day = addDays(day, popular ? rng.int(7, 21) : rng.int(14, 42));
    }
  });
  dates.sort((a, b) => a.startAt - b.startAt || a.course - b.course);
  let cdId = 12_650_000;
  const coursedates = dates.map((d) => ({ ...d, id: (cdId += rng.int(1, 30)) }));
  return { courses, coursedates };
}

const Kind = { Diploma: 0, NotCompleted: 1, CompletedNoDiploma: 2, PreIssued: 3 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

export function generateFrontcoreData(world: World, timezone = 'Europe/Oslo'): FrontcoreData {
  const rng = world.rng.fork('frontcore');
  const zc = createZonelessClock(timezone);
  const asOf = world.options.asOf;
  const asOfMs = local(zc, `${asOf} 12:00:00`);
  const { courses, coursedates } = makeCatalog(rng.fork('catalog'), zc, asOf, asOfMs);
  const coursedatesByCourse = courses.map(() => [] as number[]);
  coursedates.forEach((d, i) => coursedatesByCourse[d.course]?.push(i));
  const past = coursedatesByCourse.map((list) => list.filter((i) => (coursedates[i] as Coursedate).endAt <= asOfMs));
  const recent = past.map((list) => list.filter((i) => (coursedates[i] as Coursedate).endAt > asOfMs - 14 * DAY));
  const upcoming = coursedatesByCourse.map((list) => list.filter((i) => (coursedates[i] as Coursedate).endAt > asOfMs && (coursedates[i] as Coursedate).startAt < asOfMs + 45 * DAY));
  const future = coursedatesByCourse.map((list) => list.filter((i) => (coursedates[i] as Coursedate).startAt > asOfMs));
  const courseWeights = COURSE_SPECS.map((s) => s.weight);

  const urng = rng.fork('users');
  const holders: Holder[] = world.byProvider('frontcore').map((p) => ({
    key: p.key,
    firstName: p.firstName,
    lastName: p.lastName,
    dateOfBirth: p.dateOfBirth,
    nationalId: p.nationalId,
    phone: p.phone,
    gender: p.gender,
    email: world.emailFor(p, 'frontcore'),
    secondEmail: p.secondFrontcoreEmail,
    world: p,
  }));
  const users = new UserTable();
  const usersByHolder = new Map<number, number[]>();
  let userId = 100_000;
  // Weights over catalog NATIONALITIES (null, NO, SE, DK, PL, LT, DE); a NIN means Norwegian.
  const nationalityOf = (h: Holder): number => (h.nationalId !== null ? 1 : weighted(urng, [1, 14, 2, 1, 2, 1, 1]));
  holders.forEach((h, hi) => {
    const domain = (h.world?.email ?? h.email).split('@')[1] ?? '';
    const own = CUSTOMERS.findIndex((c) => c.domain === domain);
    const r = urng.next();
    const customer = r < 0.85 && own >= 0 ? own : r < 0.9 ? urng.int(0, CUSTOMERS.length - 1) : -1;
    const u = users.add({
      id: (userId += urng.int(1, 9)),
      holder: hi,
      second: false,
      customer,
      position: urng.chance(0.2) ? 0 : urng.int(1, POSITIONS.length - 1),
      nationality: nationalityOf(h),
      employeeNo: customer >= 0 && urng.chance(0.5) ? urng.int(1000, 99_999) : 0,
      createdAt: 0,
    });
    usersByHolder.set(hi, [u]);
  });
  // Second accounts were opened later (private bookings), so their ids come after every primary one.
  holders.forEach((h, hi) => {
    if (h.secondEmail === null) return;
    const primary = usersByHolder.get(hi)?.[0] ?? 0;
    const u = users.add({ id: (userId += urng.int(1, 9)), holder: hi, second: true, customer: -1, position: 0, nationality: users.nationality[primary] as number, employeeNo: 0, createdAt: 0 });
    usersByHolder.get(hi)?.push(u);
  });

  // Enrolments, gathered first and numbered afterwards in the order they were created.
  const erng = rng.fork('enrolments');
  const pUser: number[] = [];
  const pCd: number[] = [];
  const pKind: Kind[] = [];
  const pCreated: number[] = [];
  const pDiploma: number[] = [];
  const enrol = (u: number, cd: number, kind: Kind): void => {
    const d = coursedates[cd] as Coursedate;
    let dip = 0;
    if (kind === Kind.Diploma) dip = toSecond(Math.min(asOfMs, d.endAt + erng.int(1800, 3 * 86_400) * SEC));
    if (kind === Kind.PreIssued) dip = toSecond(asOfMs - erng.int(3600, 5 * 86_400) * SEC);
    let created = d.startAt - erng.int(2, 60) * DAY - erng.int(0, 86_399) * SEC;
    if (kind === Kind.PreIssued) created = Math.min(created, dip - DAY);
    created = toSecond(Math.min(created, asOfMs - erng.int(0, 10) * DAY));
    pUser.push(u);
    pCd.push(cd);
    pKind.push(kind);
    pCreated.push(created);
    pDiploma.push(dip);
  };
  const pickCourse = (): number => weighted(erng, courseWeights);
  for (let u = 0; u < users.length; u++) {
    const second = users.second[u] === 1;
    const diplomas = second ? erng.int(1, 2) : 1 + weighted(erng, [30, 25, 18, 12, 9, 6]);
    for (let k = 0; k < diplomas; k++) {
      const c = pickCourse();
      const soon = upcoming[c] ?? [];
      if (erng.chance(0.01) && soon.length > 0) enrol(u, erng.pick(soon), Kind.PreIssued);
      else enrol(u, erng.pick(past[c] ?? []), Kind.Diploma);
    }
    if (!second && erng.chance(0.03)) {
      const c = pickCourse();
      if ((recent[c] ?? []).length > 0) enrol(u, erng.pick(recent[c] ?? []), Kind.CompletedNoDiploma);
    }
    const open = erng.chance(0.3) ? (erng.chance(0.3) ? 2 : 1) : 0;
    for (let k = 0; k < open; k++) {
      const c = pickCourse();
      const pool = erng.chance(0.5) && (future[c] ?? []).length > 0 ? (future[c] ?? []) : (past[c] ?? []);
      enrol(u, erng.pick(pool), Kind.NotCompleted);
    }
  }

  const order = pCreated.map((_, i) => i).sort((a, b) => (pCreated[a] as number) - (pCreated[b] as number) || a - b);
  const participants = new ParticipantTable();
  let participantId = 700_000;
  const userFirst = new Float64Array(users.length).fill(Number.POSITIVE_INFINITY);
  const issued: number[] = [];
  for (const t of order) {
    const kind = pKind[t] as Kind;
    const cd = coursedates[pCd[t] as number] as Coursedate;
    const created = pCreated[t] as number;
    const p = participants.add({ id: (participantId += erng.int(1, 4)), user: pUser[t] as number, coursedate: pCd[t] as number, createdAt: created, completed: kind === Kind.Diploma || kind === Kind.CompletedNoDiploma });
    linkParticipantToUser(users, participants, p);
    userFirst[pUser[t] as number] = Math.min(userFirst[pUser[t] as number] as number, created);
    let updated = created;
    if (kind === Kind.NotCompleted) updated = cd.endAt <= asOfMs ? cd.endAt + erng.int(0, 5 * 86_400) * SEC : created + erng.int(0, 10 * 86_400) * SEC;
    if (kind === Kind.CompletedNoDiploma) updated = cd.endAt + erng.int(3600, 2 * 86_400) * SEC;
    participants.updatedAt[p] = toSecond(Math.max(created, Math.min(asOfMs, updated)));
    if (cd.endAt < asOfMs - 2 * 365 * DAY && erng.chance(0.25)) {
      const archived = toSecond(Math.min(asOfMs, cd.endAt + erng.int(365, 730) * DAY));
      participants.archivedAt[p] = archived;
      participants.updatedAt[p] = Math.max(participants.updatedAt[p] ?? 0, archived);
    }
    if (kind === Kind.Diploma || kind === Kind.PreIssued) issued.push(p);
  }

  const drng = rng.fork('diplomas');
  issued.sort((a, b) => (pDiploma[order[a] as number] as number) - (pDiploma[order[b] as number] as number) || a - b);
  const diplomas = new DiplomaTable();
  let diplomaId = 12_000;
  const serialSeq = new Map<string, number>();
  const serialSince = asOfMs - 5.5 * 365 * DAY;
  for (const p of issued) {
    const created = pDiploma[order[p] as number] as number;
    const preIssued = pKind[order[p] as number] === Kind.PreIssued;
    const course = coursedates[participants.coursedate[p] as number]?.course ?? 0;
    const participation = !preIssued && drng.chance(0.02);
    let flags = 0;
    if (!preIssued) flags |= FLAG.participated | FLAG.completed | (drng.chance(0.95) ? FLAG.assessment : 0);
    if (!preIssued && !participation) flags |= FLAG.passed;
    if (preIssued || drng.chance(0.9)) flags |= FLAG.printed;
    if (!preIssued && drng.chance(0.85)) flags |= FLAG.sent;
    const year = Number(zc.date(created).slice(0, 4));
    const key = `${course}:${year}`;
    const seq = (serialSeq.get(key) ?? 0) + 1;
    serialSeq.set(key, seq);
    const d = diplomas.add({
      id: (diplomaId += drng.int(1, 3)),
      participant: p,
      createdAt: created,
      flags,
      note: participation ? PARTICIPATION_NOTE : drng.chance(0.4) ? 0 : drng.int(1, PASSED_NOTES.length - 2),
      rcn: drng.int(0, 0xffff_ffff),
      serialYear: created < serialSince ? 0 : year,
      serialSeq: seq,
    });
    participants.diploma[p] = d;
    let updated = toSecond(Math.min(asOfMs, created + drng.int(0, 2 * 86_400) * SEC));
    diplomas.resultUpdatedAt[d] = updated;
    if (drng.chance(0.1)) updated = toSecond(Math.max(updated, Math.min(asOfMs, updated + drng.int(1, 200) * DAY)));
    if (drng.chance(0.05)) {
      updated = toSecond(Math.max(updated, Math.min(asOfMs, updated + drng.int(3600, 120 * 86_400) * SEC)));
      diplomas.deletedAt[d] = updated;
    }
    diplomas.updatedAt[d] = updated;
    participants.updatedAt[p] = Math.max(participants.updatedAt[p] as number, updated);
  }

  for (let u = 0; u < users.length; u++) {
    const first = userFirst[u] as number;
    const created = toSecond((Number.isFinite(first) ? first : asOfMs) - urng.int(0, 400) * DAY - urng.int(0, 86_399) * SEC);
    users.createdAt[u] = created;
    users.updatedAt[u] = toSecond(created + urng.int(0, Math.max(0, Math.floor((asOfMs - created) / SEC))) * SEC);
  }

  return {
    timezone,
    courses,
    coursedates,
    coursedatesByCourse,
    holders,
    usersByHolder,
    users,
    participants,
    diplomas,
    userOverrides: new Map(),
    diplomaOverrides: new Map(),
    version: 0,
    nextIds: { user: userId + 7, participant: participantId + 3, diploma: diplomaId + 2 },
  };
}
