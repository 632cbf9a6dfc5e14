/**
 * Changes to the FrontCore world made through the control routes. Every change stamps the
 * server clock on what FrontCore would stamp (diploma / user / course `updated_at`) and on the
 * participant's `updated_at`, which is what lets a connector sync incrementally via participants.
 */
import { FLAG, linkParticipantToUser, participantsOfUser, type FrontcoreData, type Holder, type UserOverride } from './model.ts';
import { toSecond, type ZonelessClock } from './zoneless.ts';

function touchParticipant(data: FrontcoreData, p: number, now: number): void {
  data.participants.updatedAt[p] = Math.max(data.participants.updatedAt[p] as number, now);
}

function bump(data: FrontcoreData): void {
  data.version++;
}

export function addHolder(data: FrontcoreData, holder: Holder): number {
  data.holders.push(holder);
  return data.holders.length - 1;
}

/** A new user account for a holder (their first, or a second private one). */
export function addUser(data: FrontcoreData, holder: number, nowMs: number): number {
  const now = toSecond(nowMs);
  const existing = data.usersByHolder.get(holder) ?? [];
  const u = data.users.add({
    id: data.nextIds.user,
    holder,
    second: existing.length > 0,
    customer: -1,
    position: 0,
    nationality: data.holders[holder]?.nationalId ? 1 : 0,
    employeeNo: 0,
    createdAt: now,
  });
  data.nextIds.user += 1;
  data.usersByHolder.set(holder, [...existing, u]);
  bump(data);
  return u;
}

export function addParticipant(data: FrontcoreData, u: number, coursedate: number, completed: boolean, nowMs: number): number {
  const now = toSecond(nowMs);
  const p = data.participants.add({ id: data.nextIds.participant, user: u, coursedate, createdAt: now, completed });
  data.nextIds.participant += 1;
  linkParticipantToUser(data.users, data.participants, p);
  bump(data);
  return p;
}

export function issueDiploma(data: FrontcoreData, zc: ZonelessClock, p: number, nowMs: number, opts: { serial?: string | null; passed_note?: string | null }): number {
  const now = toSecond(nowMs);
  const course = data.coursedates[data.participants.coursedate[p] as number]?.course ?? 0;
  const year = Number(zc.date(now).slice(0, 4));
  let seq = 0;
  for (let d = 0; d < data.diplomas.length; d++) {
    const c = data.coursedates[data.participants.coursedate[data.diplomas.participant[d] as number] as number]?.course;
    if (c === course && data.diplomas.serialYear[d] === year) seq = Math.max(seq, data.diplomas.serialSeq[d] as number);
  }
  const d = data.diplomas.add({
    id: data.nextIds.diploma,
    participant: p,
    createdAt: now,
    flags: FLAG.participated | FLAG.completed | FLAG.passed | FLAG.assessment | FLAG.printed,
    note: 2,
    rcn: (data.nextIds.diploma * 2_654_435_761) >>> 0,
    serialYear: year,
    serialSeq: seq + 1,
  });
  data.nextIds.diploma += 1;
  data.participants.diploma[p] = d;
  data.participants.completed[p] = 1;
  if (opts.serial !== undefined || opts.passed_note !== undefined) data.diplomaOverrides.set(d, { ...opts });
  touchParticipant(data, p, now);
  bump(data);
  return d;
}

export interface DiplomaPatch {
  serial?: string | null;
  passed_note?: string | null;
  is_passed?: boolean;
  is_sent?: boolean;
  created_at?: number;
  coursedate?: number;
  deleted_at?: null;
}

export function patchDiploma(data: FrontcoreData, d: number, patch: DiplomaPatch, nowMs: number): void {
  const now = toSecond(nowMs);
  const t = data.diplomas;
  const p = t.participant[d] as number;
  const o = { ...data.diplomaOverrides.get(d) };
  if (patch.serial !== undefined) o.serial = patch.serial;
  if (patch.passed_note !== undefined) o.passed_note = patch.passed_note;
  data.diplomaOverrides.set(d, o);
  const setFlag = (bit: number, on: boolean | undefined): void => {
    if (on !== undefined) t.flags[d] = on ? (t.flags[d] as number) | bit : (t.flags[d] as number) & ~bit;
  };
  setFlag(FLAG.passed, patch.is_passed);
  setFlag(FLAG.sent, patch.is_sent);
  if (patch.is_passed !== undefined || patch.passed_note !== undefined) t.resultUpdatedAt[d] = now;
  if (patch.created_at !== undefined) t.createdAt[d] = toSecond(patch.created_at);
  if (patch.coursedate !== undefined) data.participants.coursedate[p] = patch.coursedate;
  if (patch.deleted_at === null) t.deletedAt[d] = 0;
  t.updatedAt[d] = now;
  touchParticipant(data, p, now);
  bump(data);
}

/** FrontCore keeps a deleted diploma and marks it with `deleted_at`; deleting twice keeps the first time. */
export function deleteDiploma(data: FrontcoreData, d: number, nowMs: number): void {
  const now = toSecond(nowMs);
  if (data.diplomas.deletedAt[d] !== 0) return;
  data.diplomas.deletedAt[d] = now;
  data.diplomas.updatedAt[d] = now;
  touchParticipant(data, data.diplomas.participant[d] as number, now);
  bump(data);
}

export function patchUser(data: FrontcoreData, u: number, patch: UserOverride, nowMs: number): void {
  const now = toSecond(nowMs);
  data.userOverrides.set(u, { ...data.userOverrides.get(u), ...patch });
  data.users.updatedAt[u] = now;
  // Assumed (doc silent): editing a user moves its participants' updated_at, so incremental sync sees it.
  for (const p of participantsOfUser(data, u)) touchParticipant(data, p, now);
  bump(data);
}

export function patchCourse(data: FrontcoreData, c: number, patch: { title?: string; reference?: string }, touchParticipants: boolean, nowMs: number): void {
  const now = toSecond(nowMs);
  const course = data.courses[c];
  if (!course) return;
  if (patch.title !== undefined) course.title = patch.title;
  if (patch.reference !== undefined) course.reference = patch.reference;
  course.updatedAt = now;
  if (touchParticipants) {
    // Assumed (doc silent): renaming a course moves updated_at of its participants that hold a diploma.
    const t = data.participants;
    for (let p = 0; p < t.length; p++) {
      if ((t.diploma[p] as number) >= 0 && data.coursedates[t.coursedate[p] as number]?.course === c) touchParticipant(data, p, now);
    }
  }
  bump(data);
}
