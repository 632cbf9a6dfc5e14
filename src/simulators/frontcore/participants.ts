/**
 * `GET /v2/participants` (frontcore-notes.md): filters, `limit`/`page` paging and `since_id`, over
 * the participant columns. Sequential paging resumes where the previous page stopped (a small
 * cache keyed by the filters), so walking every page is linear, not quadratic.
 */
import { CUSTOMERS } from './catalog.ts';
import { firstAfterId, findById, participantsOfUser, type FrontcoreData } from './model.ts';
import type { ZonelessClock } from './zoneless.ts';

export const PARTICIPANTS_DEFAULT_LIMIT = 75;
export const PARTICIPANTS_MAX_LIMIT = 250;

export interface ParticipantQuery {
  courseId: number | null;
  coursedateId: number | null;
  customerId: number | null;
  userId: number | null;
  limit: number;
  page: number;
  sinceId: number | null;
  createdMin: number | null;
  createdMax: number | null;
  updatedMin: number | null;
  updatedMax: number | null;
  attendance: boolean;
}

const INTEGER = /^\d+$/;

/** Reads the query string; a string is the error message for a 400. */
export function parseParticipantQuery(q: URLSearchParams, zc: ZonelessClock): ParticipantQuery | string {
  const int = (name: string): number | null | string => {
    const v = q.get(name);
    if (v === null || v === '') return null;
    return INTEGER.test(v) && Number(v) <= 2_147_483_647 ? Number(v) : `${name} must be an integer`;
  };
  const time = (name: string): number | null | string => {
    const v = q.get(name);
    if (v === null || v === '') return null;
    return zc.parse(v) ?? `${name} must be in the format yyyy-mm-dd or yyyy-mm-dd hh:mm:ss`;
  };
  const values = {
    courseId: int('course_id'),
    coursedateId: int('coursedate_id'),
    customerId: int('customer_id'),
    userId: int('user_id'),
    limit: int('limit'),
    page: int('page'),
    sinceId: int('since_id'),
    createdMin: time('created_at_min'),
    createdMax: time('created_at_max'),
    updatedMin: time('updated_at_min'),
    updatedMax: time('updated_at_max'),
  };
  for (const v of Object.values(values)) if (typeof v === 'string') return v;
  const n = values as { [K in keyof typeof values]: number | null };
  const limit = n.limit ?? PARTICIPANTS_DEFAULT_LIMIT;
  if (limit < 1 || limit > PARTICIPANTS_MAX_LIMIT) return `limit must be between 1 and ${PARTICIPANTS_MAX_LIMIT}`;
  const page = n.page ?? 1;
  if (page < 1) return 'page must be 1 or greater';
  // include[]=attendance (also include=attendance); unsupported include values are ignored.
  const includes = [...q.getAll('include[]'), ...q.getAll('include')].flatMap((v) => v.split(','));
  return { ...n, limit, page, attendance: includes.includes('attendance') };
}

interface Resume {
  version: number;
  page: number;
  next: number;
}

export interface ParticipantFinder {
  /** Participant row indexes of the requested page, in id order. */
  find(query: ParticipantQuery): number[];
}

export function createParticipantFinder(data: FrontcoreData): ParticipantFinder {
  const resume = new Map<string, Resume>();

  return {
    find(query) {
      const t = data.participants;
      const c = data.courses.findIndex((x) => x.id === query.courseId);
      const cdIndex = query.coursedateId === null ? -1 : data.coursedates.findIndex((x) => x.id === query.coursedateId);
      if ((query.courseId !== null && c < 0) || (query.coursedateId !== null && cdIndex < 0)) return [];
      let userIndex = -1;
      if (query.userId !== null) {
        userIndex = findById(data.users.id, data.users.length, query.userId);
        if (userIndex < 0) return [];
      }
      const customer = query.customerId === null ? -2 : CUSTOMERS.findIndex((x) => x.id === query.customerId);
      if (customer === -1) return [];
      const match = (p: number): boolean => {
        const cd = t.coursedate[p] as number;
        if (cdIndex >= 0 && cd !== cdIndex) return false;
        if (c >= 0 && data.coursedates[cd]?.course !== c) return false;
        if (customer >= 0 && data.users.customer[t.user[p] as number] !== customer) return false;
        const created = t.createdAt[p] as number;
        const updated = t.updatedAt[p] as number;
        if (query.createdMin !== null && created < query.createdMin) return false;
        if (query.createdMax !== null && created > query.createdMax) return false;
        if (query.updatedMin !== null && updated < query.updatedMin) return false;
        if (query.updatedMax !== null && updated > query.updatedMax) return false;
        return true;
      };
      // Rows in id order: one user's list, or every row from just after since_id.
      const candidates = userIndex >= 0 ? participantsOfUser(data, userIndex) : null;
      const total = candidates ? candidates.length : t.length;
      let start = 0;
      if (query.sinceId !== null) start = candidates ? candidates.findIndex((p) => (t.id[p] as number) > (query.sinceId as number)) : firstAfterId(t.id, t.length, query.sinceId);
      if (start < 0) return [];
      const key = JSON.stringify({ ...query, page: 0, attendance: false });
      let skip = (query.page - 1) * query.limit;
      const saved = resume.get(key);
      if (saved && saved.version === data.version && saved.page === query.page - 1) {
        start = saved.next;
        skip = 0;
      }
      const out: number[] = [];
      let i = start;
      for (; i < total && out.length < query.limit; i++) {
        const p = candidates ? (candidates[i] as number) : i;
        if (!match(p)) continue;
        if (skip > 0) skip--;
        else out.push(p);
      }
      if (resume.size > 64) resume.clear();
      resume.set(key, { version: data.version, page: query.page, next: i });
      return out;
    },
  };
}
