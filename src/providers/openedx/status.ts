/**
 * Open edX's half of live status checks: the learners asked through `bulk_learner_cert_status`, OPENEDX_BULK_BATCH
 * learners per request, by username (the one given for this source, else the one their certificates carry).
 */
import { achievementIds, liveAnswer, liveFailure, liveFailureOf, userIdsAt, type LiveCheck, type LiveEntry } from '../live.ts';
import { bulkLearnerCertStatus, createOpenedxSession, type LearnerCertStatusQuery } from './client.ts';
import type { LearnerCertStatus, OpenedxConfig } from './schema.ts';

export const OPENEDX_BULK_BATCH = 100;

/** Open edX's live answer about one person. */
export interface OpenedxLiveAnswer {
  username: string | null;
  lms_user_id: number | null;
  /** Earned course-run certificates among the runs asked (empty when no run was among the achievements). */
  status: { course_uuid: string | null; course_run: { uuid: string | null; key: string }; status: string; type: string | null; certificate_available_date: string | null }[];
}

function answerOf(a: LearnerCertStatus): OpenedxLiveAnswer {
  return {
    username: a.username,
    lms_user_id: a.lms_user_id,
    status: a.status.map((s) => ({
      course_uuid: s.course_uuid ?? null,
      course_run: { uuid: s.course_run.uuid ?? null, key: s.course_run.key },
      status: s.status,
      type: s.type ?? null,
      certificate_available_date: s.certificate_available_date ?? null,
    })),
  };
}

export const openedxLiveCheck: LiveCheck<OpenedxConfig> = {
  limits: `Open edX ${OPENEDX_BULK_BATCH} learners per request`,
  async check({ source, config, http, people, matchers, catalog, signal }) {
    const out: (LiveEntry | null)[] = people.map(() => null);
    const asks: { index: number; query: LearnerCertStatusQuery }[] = [];
    people.forEach((person, index) => {
      const runs = achievementIds(source, 'course_run', matchers, person.certificates, catalog);
      if (runs.length === 0) {
        out[index] = liveAnswer(source, { username: null, lms_user_id: null, status: [] } satisfies OpenedxLiveAnswer);
        return;
      }
      const q = person.query;
      const username = q.provider_user !== undefined && q.provider_user.source === source.slug ? q.provider_user.user_id : userIdsAt(source, person.certificates)[0];
      if (username === undefined) {
        out[index] = liveFailure(source, 'invalid_request', `${source.slug}: Open edX is asked by username, and none is known for this person`);
        return;
      }
      asks.push({ index, query: { username, course_runs: runs } });
    });
    if (asks.length > 0) {
      const edx = createOpenedxSession(http, config);
      for (let i = 0; i < asks.length; i += OPENEDX_BULK_BATCH) {
        const batch = asks.slice(i, i + OPENEDX_BULK_BATCH);
        try {
          const answers = await bulkLearnerCertStatus(edx, batch.map((a) => a.query), signal);
          batch.forEach((a, j) => (out[a.index] = liveAnswer(source, answerOf(answers[j]!))));
        } catch (err) {
          for (const a of batch) out[a.index] = liveFailureOf(source, err);
        }
      }
    }
    return out.map((e) => e!);
  },
};
