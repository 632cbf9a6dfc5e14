/**
 * FrontCore's half of live status checks: `GET /v2/certificates/status` by national id, user id or birth date + name,
 * one course per request. FrontCore allows 5 requests/s per account, so one check asks at most
 * FRONTCORE_LIVE_REQUEST_BUDGET times (about 11 s at the default 4.5/s pace) and at most LIVE_COURSES_PER_PERSON
 * courses per person; people beyond the budget get a `rate_limited` entry.
 */
import { achievementIds, liveAnswer, liveFailure, liveFailureOf, userIdsAt, type LiveCheck, type LiveEntry, type LivePerson, type LiveSource } from '../live.ts';
import { checkStatusByDobName, checkStatusByNin, checkStatusByUserId, type FrontcoreCall } from './client.ts';
import type { FrontcoreConfig, StatusAnswer } from './schema.ts';

export const FRONTCORE_LIVE_REQUEST_BUDGET = 50;
export const LIVE_COURSES_PER_PERSON = 10;

/** FrontCore's live answer about one person. */
export interface FrontcoreLiveAnswer {
  asked_by: 'national_id' | 'user_id' | 'name_dob' | null;
  /** One per course asked (empty when no FrontCore course was among the achievements). */
  checks: {
    course_id: number;
    valid: boolean;
    items: { id: number; participant_id: number | null; user_id: number | null; course: unknown; coursedate: unknown; serial: string | null; created_at: string | null }[];
  }[];
}

function answerItems(answer: StatusAnswer): FrontcoreLiveAnswer['checks'][number]['items'] {
  // Only what identifies a diploma: whatever else FrontCore may add (a national id?) is not passed on.
  return answer.items.map((i) => ({
    id: i.id,
    participant_id: i.participant_id ?? null,
    user_id: i.user_id ?? null,
    course: i.course ?? null,
    coursedate: i.coursedate ?? null,
    serial: i.serial ?? null,
    created_at: i.created_at ?? null,
  }));
}

type Identification =
  | { by: 'national_id'; national_identification_number: string }
  | { by: 'user_id'; user_id: number }
  | { by: 'name_dob'; date_of_birth: string; firstname: string; lastname: string };

function identification(source: LiveSource, person: LivePerson): Identification | null {
  const q = person.query;
  if (q.national_id !== undefined) return { by: 'national_id', national_identification_number: q.national_id.replace(/\D/g, '') };
  if (q.provider_user !== undefined && q.provider_user.source === source.slug && /^\d+$/.test(q.provider_user.user_id)) {
    return { by: 'user_id', user_id: Number(q.provider_user.user_id) };
  }
  const known = userIdsAt(source, person.certificates).find((id) => /^\d+$/.test(id));
  if (known !== undefined) return { by: 'user_id', user_id: Number(known) };
  if (q.date_of_birth !== undefined && q.name !== undefined) {
    // FrontCore wants first and last name apart: the last word is taken as the last name.
    const words = q.name.trim().split(/\s+/);
    if (words.length >= 2) return { by: 'name_dob', date_of_birth: q.date_of_birth, firstname: words.slice(0, -1).join(' '), lastname: words.at(-1)! };
  }
  return null;
}

export const frontcoreLiveCheck: LiveCheck<FrontcoreConfig> = {
  limits: `FrontCore at most ${FRONTCORE_LIVE_REQUEST_BUDGET} requests per check`,
  async check({ source, config, http, people, matchers, catalog, signal }) {
    const call: FrontcoreCall = { http, config, signal };
    let budget = FRONTCORE_LIVE_REQUEST_BUDGET;
    const out: LiveEntry[] = [];
    for (const person of people) {
      const courses = achievementIds(source, 'course', matchers, person.certificates, catalog)
        .filter((id) => /^\d+$/.test(id))
        .slice(0, LIVE_COURSES_PER_PERSON);
      if (courses.length === 0) {
        out.push(liveAnswer(source, { asked_by: null, checks: [] } satisfies FrontcoreLiveAnswer));
        continue;
      }
      const id = identification(source, person);
      if (id === null) {
        out.push(liveFailure(source, 'invalid_request', `${source.slug}: FrontCore is asked by national id, user id or date of birth + full name, and none is known for this person`));
        continue;
      }
      if (courses.length > budget) {
        out.push(liveFailure(source, 'rate_limited', `${source.slug}: not asked: one check asks FrontCore at most ${FRONTCORE_LIVE_REQUEST_BUDGET} times (5 requests/s per account)`));
        continue;
      }
      budget -= courses.length;
      try {
        const checks: FrontcoreLiveAnswer['checks'] = [];
        for (const course of courses) {
          const course_id = Number(course);
          const answer =
            id.by === 'national_id'
              ? await checkStatusByNin(call, { national_identification_number: id.national_identification_number, course_id })
              : id.by === 'user_id'
                ? await checkStatusByUserId(call, { user_id: id.user_id, course_id })
                : await checkStatusByDobName(call, { date_of_birth: id.date_of_birth, firstname: id.firstname, lastname: id.lastname, course_id });
          checks.push({ course_id, valid: answer.valid, items: answerItems(answer) });
        }
        out.push(liveAnswer(source, { asked_by: id.by, checks } satisfies FrontcoreLiveAnswer));
      } catch (err) {
        out.push(liveFailureOf(source, err));
      }
    }
    return out;
  },
};
