/**
 * FrontCore's records, kept compact: column arrays (typed arrays that grow by doubling) holding
 * indexes into the people / catalog arrays and epoch milliseconds, never repeated strings. JSON is
 * built only when a record is served (present.ts). Ids only ever grow with the row index, so a
 * lookup by id is a binary search and "sorted by id" is "in row order".
 */
import type { WorldPerson } from '../common/world.ts';
import { grown } from '../common/columns.ts';


/** Index of `id` in the ascending `ids[0..length)`, or -1. */
export function findById(ids: Int32Array, length: number, id: number): number {
  let lo = 0;
  let hi = length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid] as number;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** First index whose id is greater than `id`. */
export function firstAfterId(ids: Int32Array, length: number, id: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] as number) <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class UserTable {
  length = 0;
  id = new Int32Array(0);
  /** Index into FrontcoreData.holders. */
  holder = new Int32Array(0);
  /** 1 = the person's second, private account. */
  second = new Uint8Array(0);
  /** Index into CUSTOMERS, -1 = private (no customer). */
  customer = new Int16Array(0);
  position = new Uint8Array(0);
  nationality = new Uint8Array(0);
  /** 0 = null. */
  employeeNo = new Int32Array(0);
  createdAt = new Float64Array(0);
  updatedAt = new Float64Array(0);
  /** Head of this user's participant list (ParticipantTable.nextOfUser), -1 = none. */
  firstParticipant = new Int32Array(0);

  add(row: { id: number; holder: number; second: boolean; customer: number; position: number; nationality: number; employeeNo: number; createdAt: number }): number {
    const i = this.length++;
    this.id = grown(this.id, this.length);
    this.holder = grown(this.holder, this.length);
    this.second = grown(this.second, this.length);
    this.customer = grown(this.customer, this.length);
    this.position = grown(this.position, this.length);
    this.nationality = grown(this.nationality, this.length);
    this.employeeNo = grown(this.employeeNo, this.length);
    this.createdAt = grown(this.createdAt, this.length);
    this.updatedAt = grown(this.updatedAt, this.length);
    this.firstParticipant = grown(this.firstParticipant, this.length);
    this.id[i] = row.id;
    this.holder[i] = row.holder;
    this.second[i] = row.second ? 1 : 0;
    this.customer[i] = row.customer;
    this.position[i] = row.position;
    this.nationality[i] = row.nationality;
    this.employeeNo[i] = row.employeeNo;
    this.createdAt[i] = row.createdAt;
    this.updatedAt[i] = row.createdAt;
    this.firstParticipant[i] = -1;
    return i;
  }
}

export class ParticipantTable {
  length = 0;
  id = new Int32Array(0);
  user = new Int32Array(0);
  coursedate = new Int32Array(0);
  createdAt = new Float64Array(0);
  updatedAt = new Float64Array(0);
  /** 0 = null. */
  archivedAt = new Float64Array(0);
  completed = new Uint8Array(0);
  /** Index into DiplomaTable, -1 = no diploma (yet). */
  diploma = new Int32Array(0);
  /** Next participant of the same user (a linked list from UserTable.firstParticipant), -1 = end. */
  nextOfUser = new Int32Array(0);

  add(row: { id: number; user: number; coursedate: number; createdAt: number; completed: boolean }): number {
    const i = this.length++;
    this.id = grown(this.id, this.length);
    this.user = grown(this.user, this.length);
    this.coursedate = grown(this.coursedate, this.length);
    this.createdAt = grown(this.createdAt, this.length);
    this.updatedAt = grown(this.updatedAt, this.length);
    this.archivedAt = grown(this.archivedAt, this.length);
    this.completed = grown(this.completed, this.length);
    this.diploma = grown(this.diploma, this.length);
    this.nextOfUser = grown(this.nextOfUser, this.length);
    this.id[i] = row.id;
    this.user[i] = row.user;
    this.coursedate[i] = row.coursedate;
    this.createdAt[i] = row.createdAt;
    this.updatedAt[i] = row.createdAt;
    this.archivedAt[i] = 0;
    this.completed[i] = row.completed ? 1 : 0;
    this.diploma[i] = -1;
    this.nextOfUser[i] = -1;
    return i;
  }
}

/** DiplomaTable.flags bits. */
export const FLAG = { participated: 1, completed: 2, passed: 4, assessment: 8, printed: 16, sent: 32 } as const;

export class DiplomaTable {
  length = 0;
  id = new Int32Array(0);
  participant = new Int32Array(0);
  createdAt = new Float64Array(0);
  updatedAt = new Float64Array(0);
  resultUpdatedAt = new Float64Array(0);
  /** 0 = null. */
  deletedAt = new Float64Array(0);
  flags = new Uint8Array(0);
  /** Index into PASSED_NOTES. */
  note = new Uint8Array(0);
  /** Seed of random_certificate_number (present.ts formats it). */
  rcn = new Uint32Array(0);
  /** Serial `YYYY-PREFIX-NNN`; year 0 = `serial: null` (diplomas older than the serial scheme). */
  serialYear = new Int16Array(0);
  serialSeq = new Int32Array(0);

  add(row: { id: number; participant: number; createdAt: number; flags: number; note: number; rcn: number; serialYear: number; serialSeq: number }): number {
    const i = this.length++;
    this.id = grown(this.id, this.length);
    this.participant = grown(this.participant, this.length);
    this.createdAt = grown(this.createdAt, this.length);
    this.updatedAt = grown(this.updatedAt, this.length);
    this.resultUpdatedAt = grown(this.resultUpdatedAt, this.length);
    this.deletedAt = grown(this.deletedAt, this.length);
    this.flags = grown(this.flags, this.length);
    this.note = grown(this.note, this.length);
    this.rcn = grown(this.rcn, this.length);
    this.serialYear = grown(this.serialYear, this.length);
    this.serialSeq = grown(this.serialSeq, this.length);
    this.id[i] = row.id;
    this.participant[i] = row.participant;
    this.createdAt[i] = row.createdAt;
    this.updatedAt[i] = row.createdAt;
    this.resultUpdatedAt[i] = row.createdAt;
    this.deletedAt[i] = 0;
    this.flags[i] = row.flags;
    this.note[i] = row.note;
    this.rcn[i] = row.rcn;
    this.serialYear[i] = row.serialYear;
    this.serialSeq[i] = row.serialSeq;
    return i;
  }
}

export interface Course {
  id: number;
  title: string;
  reference: string;
  days: number;
  createdAt: number;
  updatedAt: number;
}

export interface Coursedate {
  id: number;
  course: number;
  startAt: number;
  endAt: number;
  deadlineAt: number;
  /** Index into LOCATIONS. */
  location: number;
}

/** The person behind a user account: a world person, or one added through a control route. */
export interface Holder {
  key: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  nationalId: string | null;
  phone: string | null;
  gender: 'Male' | 'Female' | null;
  /** The email of the primary account as FrontCore spells it. */
  email: string;
  /** The private email of a second account, if the person has one. */
  secondEmail: string | null;
  world: WorldPerson | null;
}

/** What a control route changed on a user (the rest comes from the holder). */
export interface UserOverride {
  email?: string;
  firstname?: string;
  lastname?: string;
  date_of_birth?: string;
  national_identification_number?: string | null;
  phone?: string | null;
}

export interface DiplomaOverride {
  serial?: string | null;
  passed_note?: string | null;
}

export interface FrontcoreData {
  timezone: string;
  courses: Course[];
  coursedates: Coursedate[];
  /** Coursedate indexes of each course, by start. */
  coursedatesByCourse: number[][];
  holders: Holder[];
  /** Holder index -> user indexes (primary first). */
  usersByHolder: Map<number, number[]>;
  users: UserTable;
  participants: ParticipantTable;
  diplomas: DiplomaTable;
  userOverrides: Map<number, UserOverride>;
  diplomaOverrides: Map<number, DiplomaOverride>;
  /** Bumped on every change, so cached paging positions are dropped. */
  version: number;
  nextIds: { user: number; participant: number; diploma: number };
}

export function linkParticipantToUser(users: UserTable, participants: ParticipantTable, p: number): void {
  const u = participants.user[p] as number;
  // Keep each user's list in ascending index order: walk to the tail (lists are short).
  let cur = users.firstParticipant[u] as number;
  if (cur < 0) {
    users.firstParticipant[u] = p;
    return;
  }
  for (let next = participants.nextOfUser[cur] as number; next >= 0; next = participants.nextOfUser[cur] as number) cur = next;
  participants.nextOfUser[cur] = p;
}

export function participantsOfUser(data: FrontcoreData, u: number): number[] {
  const out: number[] = [];
  for (let p = data.users.firstParticipant[u] as number; p >= 0; p = data.participants.nextOfUser[p] as number) out.push(p);
  return out;
}

export function courseOfParticipant(data: FrontcoreData, p: number): number {
  return (data.coursedates[data.participants.coursedate[p] as number] as Coursedate).course;
}
