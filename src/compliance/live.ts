/**
 * Live status checks (`?live=true`, `certhub status --live`): besides the stored answer, ask the providers' own status
 * endpoints about the person, through the source connector (so the calls share each account's rate limit with
 * syncs). Only FrontCore (GET /v2/certificates/status) and Open edX (learner_cert_status) have such endpoints.
 *
 * A provider failure never fails the check: it is reported in that source's entry. Limits, so that one API call
 * cannot hog a provider account:
 * - bulk: only the first LIVE_BULK_MAX_PEOPLE people are asked; later ones get a `rate_limited` entry saying so;
 * - FrontCore answers one course per request (5 requests/s per account): at most FRONTCORE_LIVE_REQUEST_BUDGET
 *   requests per check (about 11 s at the default 4.5/s pace), at most LIVE_COURSES_PER_PERSON courses per person;
 *   people beyond the budget get a `rate_limited` entry;
 * - Open edX is asked through bulk_learner_cert_status, OPENEDX_BULK_BATCH learners per request.
 * Every source's calls together are given LIVE_TIMEOUT_MS.
 */
import type { Certificate, ProviderId } from '../domain/certificate.ts';
import type { AchievementMatcher } from '../domain/requirement.ts';
import { describeError, isAppError, type ErrorCode } from '../errors.ts';
import { checkStatusByDobName, checkStatusByNin, checkStatusByUserId, type FrontcoreCall, type StatusAnswer as FrontcoreAnswer } from '../providers/frontcore/index.ts';
import { bulkLearnerCertStatus, createOpenedxSession, openedxConfigSchema, type LearnerCertStatus, type LearnerCertStatusQuery } from '../providers/openedx/index.ts';
import type { SourceConnector, SourceSession } from '../providers/connector.ts';
import type { Source, Store } from '../store/index.ts';
import type { CheckedPerson } from './status-check.ts';

export const LIVE_BULK_MAX_PEOPLE = 100;
export const FRONTCORE_LIVE_REQUEST_BUDGET = 50;
export const LIVE_COURSES_PER_PERSON = 10;
export const OPENEDX_BULK_BATCH = 100;
export const LIVE_TIMEOUT_MS = 20_000;

const LIVE_PROVIDERS: readonly ProviderId[] = ['frontcore', 'openedx'];

export interface FrontcoreLiveAnswer {
  asked_by: 'national_id' | 'user_id' | 'name_dob' | null;
  /** One per course asked (empty when no FrontCore course was among the achievements). */
  checks: {
    course_id: number;
    valid: boolean;
    items: { id: number; participant_id: number | null; user_id: number | null; course: unknown; coursedate: unknown; serial: string | null; created_at: string | null }[];
  }[];
}

export interface OpenedxLiveAnswer {
  username: string | null;
  lms_user_id: number | null;
  /** Earned course-run certificates among the runs asked (empty when no run was among the achievements). */
  status: { course_uuid: string | null; course_run: { uuid: string | null; key: string }; status: string; type: string | null; certificate_available_date: string | null }[];
}

export interface LiveEntry {
  source: string;
  provider: ProviderId;
  ok: boolean;
  answer?: FrontcoreLiveAnswer | OpenedxLiveAnswer;
  error?: { code: ErrorCode; message: string };
}

function failure(source: Source, code: ErrorCode, message: string): LiveEntry {
  return { source: source.slug, provider: source.provider, ok: false, error: { code, message } };
}

function failureOf(source: Source, err: unknown): LiveEntry {
  const code: ErrorCode = isAppError(err) ? err.code : 'provider_unavailable';
  return failure(source, code, `${source.slug}: ${describeError(err)}`);
}

/** Whether a matcher can name an achievement of this source of this type. */
function appliesTo(m: AchievementMatcher, source: Source, type: string): boolean {
  return (m.provider === undefined || m.provider === source.provider) && (m.source === undefined || m.source === source.slug) && (m.type === undefined || m.type === type);
}

interface CatalogRow {
  type: string;
  external_id: string;
  code: string | null;
}

/** The external ids of `type` the check is about at this source: from the matchers, else from the person's certificates. */
function achievementIds(source: Source, type: string, matchers: readonly AchievementMatcher[] | null, certs: readonly Certificate[], catalog: readonly CatalogRow[]): string[] {
  const ids = new Set<string>();
  if (matchers === null) {
    for (const c of certs) if (c.source === source.slug && c.achievement.type === type && c.status !== 'deleted') ids.add(c.achievement.external_id);
  } else {
    for (const m of matchers) {
      if (!appliesTo(m, source, type)) continue;
      for (const row of catalog) {
        if (row.type !== type) continue;
        if (m.external_id !== undefined && row.external_id !== m.external_id) continue;
        if (m.code !== undefined && (row.code ?? '').toLowerCase() !== m.code.toLowerCase()) continue;
        ids.add(row.external_id);
      }
      // Not (yet) in the catalog: the id as given still names it.
      if (m.external_id !== undefined && m.code === undefined) ids.add(m.external_id);
    }
  }
  return [...ids];
}

/** The person's user ids at this source, as their stored certificates give them. */
function userIdsAt(source: Source, certs: readonly Certificate[]): string[] {
  const ids = new Set<string>();
  for (const c of certs) if (c.source === source.slug && c.subject.provider_user_id !== null) ids.add(c.subject.provider_user_id);
  return [...ids];
}

function frontcoreAnswerItems(answer: FrontcoreAnswer): FrontcoreLiveAnswer['checks'][number]['items'] {
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

type FrontcoreIdentification =
  | { by: 'national_id'; national_identification_number: string }
  | { by: 'user_id'; user_id: number }
  | { by: 'name_dob'; date_of_birth: string; firstname: string; lastname: string };

function frontcoreIdentification(source: Source, person: CheckedPerson): FrontcoreIdentification | null {
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

async function liveFrontcore(
  session: SourceSession,
  people: readonly CheckedPerson[],
  matchers: readonly AchievementMatcher[] | null,
  catalog: readonly CatalogRow[],
  signal: AbortSignal,
): Promise<LiveEntry[]> {
  const source = session.source;
  const call: FrontcoreCall = { http: session.http, config: session.config as FrontcoreCall['config'], signal };
  let budget = FRONTCORE_LIVE_REQUEST_BUDGET;
  const out: LiveEntry[] = [];
  for (const person of people) {
    const courses = achievementIds(source, 'course', matchers, person.certificates, catalog)
      .filter((id) => /^\d+$/.test(id))
      .slice(0, LIVE_COURSES_PER_PERSON);
    if (courses.length === 0) {
      out.push({ source: source.slug, provider: source.provider, ok: true, answer: { asked_by: null, checks: [] } });
      continue;
    }
    const id = frontcoreIdentification(source, person);
    if (id === null) {
      out.push(failure(source, 'invalid_request', `${source.slug}: FrontCore is asked by national id, user id or date of birth + full name, and none is known for this person`));
      continue;
    }
    if (courses.length > budget) {
      out.push(failure(source, 'rate_limited', `${source.slug}: not asked: one check asks FrontCore at most ${FRONTCORE_LIVE_REQUEST_BUDGET} times (5 requests/s per account)`));
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
        checks.push({ course_id, valid: answer.valid, items: frontcoreAnswerItems(answer) });
      }
      out.push({ source: source.slug, provider: source.provider, ok: true, answer: { asked_by: id.by, checks } });
    } catch (err) {
      out.push(failureOf(source, err));
    }
  }
  return out;
}

function openedxAnswer(a: LearnerCertStatus): OpenedxLiveAnswer {
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

async function liveOpenedx(
  session: SourceSession,
  people: readonly CheckedPerson[],
  matchers: readonly AchievementMatcher[] | null,
  catalog: readonly CatalogRow[],
  signal: AbortSignal,
): Promise<LiveEntry[]> {
  const source = session.source;
  const out: (LiveEntry | null)[] = people.map(() => null);
  const asks: { index: number; query: LearnerCertStatusQuery }[] = [];
  people.forEach((person, index) => {
    const runs = achievementIds(source, 'course_run', matchers, person.certificates, catalog);
    if (runs.length === 0) {
      out[index] = { source: source.slug, provider: source.provider, ok: true, answer: { username: null, lms_user_id: null, status: [] } };
      return;
    }
    const q = person.query;
    const username = q.provider_user !== undefined && q.provider_user.source === source.slug ? q.provider_user.user_id : userIdsAt(source, person.certificates)[0];
    if (username === undefined) {
      out[index] = failure(source, 'invalid_request', `${source.slug}: Open edX is asked by username, and none is known for this person`);
      return;
    }
    asks.push({ index, query: { username, course_runs: runs } });
  });
  if (asks.length > 0) {
    const edx = createOpenedxSession(session.http, openedxConfigSchema.parse(session.config));
    for (let i = 0; i < asks.length; i += OPENEDX_BULK_BATCH) {
      const batch = asks.slice(i, i + OPENEDX_BULK_BATCH);
      try {
        const answers = await bulkLearnerCertStatus(edx, batch.map((a) => a.query), signal);
        batch.forEach((a, j) => (out[a.index] = { source: source.slug, provider: source.provider, ok: true, answer: openedxAnswer(answers[j]!) }));
      } catch (err) {
        for (const a of batch) out[a.index] = failureOf(source, err);
      }
    }
  }
  return out.map((e) => e!);
}

/**
 * Live answers for every checked person, in order (one entry per FrontCore / Open edX source of the tenant; an empty
 * list for entries that were invalid). `matchers`: the achievements the check is about, or null for all the person holds.
 */
export async function liveStatus(opts: {
  store: Store;
  connector: SourceConnector | null;
  tenantId: string;
  people: readonly CheckedPerson[];
  matchers: readonly AchievementMatcher[] | null;
}): Promise<LiveEntry[][]> {
  const { store, connector, people } = opts;
  const sources = (await store.sources.listSources(opts.tenantId)).filter((s) => s.enabled && LIVE_PROVIDERS.includes(s.provider));
  const out: LiveEntry[][] = people.map(() => []);
  const asked = people.map((p, i) => ({ p, i })).filter(({ p }) => p.result.ok);
  const now = asked.slice(0, LIVE_BULK_MAX_PEOPLE);
  const later = asked.slice(LIVE_BULK_MAX_PEOPLE);

  const perSource = await Promise.all(
    sources.map(async (source): Promise<LiveEntry[]> => {
      if (connector === null) {
        return now.map(() => failure(source, 'provider_unavailable', `${source.slug}: live checks are not available: this hub has no provider connector`));
      }
      const signal = AbortSignal.timeout(LIVE_TIMEOUT_MS);
      let session: SourceSession;
      try {
        session = await connector.open(source, signal);
      } catch (err) {
        return now.map(() => failureOf(source, err));
      }
      try {
        const catalog = opts.matchers === null ? [] : await store.achievements.listSourceCatalog(source.id);
        const checked = now.map(({ p }) => p);
        return source.provider === 'frontcore'
          ? await liveFrontcore(session, checked, opts.matchers, catalog, signal)
          : await liveOpenedx(session, checked, opts.matchers, catalog, signal);
      } catch (err) {
        return now.map(() => failureOf(source, err));
      } finally {
        await session.close();
      }
    }),
  );
  sources.forEach((source, s) => {
    now.forEach(({ i }, k) => out[i]!.push(perSource[s]![k]!));
    for (const { i } of later) {
      out[i]!.push(failure(source, 'rate_limited', `${source.slug}: not asked: live checks cover the first ${LIVE_BULK_MAX_PEOPLE} people of a bulk check`));
    }
  });
  return out;
}
