/**
 * Pulling FrontCore diplomas incrementally, through participants (frontcore-notes.md): read the participants changed
 * since the last scan (`updated_at_min` = the high-water mark minus a lookback window, zone-less in the source's zone),
 * then ask `GET /v2/diplomas?user_id=` once per user among them who has (or, in an incremental scan, may have had) a
 * diploma: one call returns all of a user's diplomas, deleted ones included (`deleted_at`).
 *
 * Every yielded page carries the checkpoint to resume from after a crash at any instant: the scan's position, what
 * of the current participants page is saved, and the previous high-water mark, which moves only when a scan completes.
 */
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { AppError } from '../../errors.ts';
import { guardedPages } from '../http/index.ts';
import type { Checkpoint, Page, PullContext } from '../provider.ts';
import {
  laterZoneless,
  nextSince,
  pruneSeen,
  readFrontcoreCheckpoint,
  settledBefore,
  updatedAtMin,
  type FrontcoreCheckpoint,
  type ScanState,
  type SeenParticipants,
} from './checkpoint.ts';
import { listDiplomas, listParticipants, PARTICIPANTS, PARTICIPANTS_PAGE_LIMIT } from './client.ts';
import { pageCourses, toCertificate } from './normalize.ts';
import type { Diploma, FrontcoreConfig, Participant } from './schema.ts';

/** Users whose diplomas go into one yielded page: progress shows, and a crash repeats at most this many requests. */
export const USERS_PER_PAGE = 20;

const userIdOf = (p: Participant): number | null => p.user_id ?? p.user?.id ?? null;

export async function* pullFrontcoreDiplomas(ctx: PullContext<FrontcoreConfig>, checkpoint: Checkpoint | null): AsyncGenerator<Page> {
  const tz = ctx.config.timezone;
  const previous: FrontcoreCheckpoint = (ctx.full ? null : readFrontcoreCheckpoint(checkpoint)) ?? { v: 2, since: null, seen: {} };
  const { since, seen: known } = previous;
  const resumed = previous.scan;
  const updated_at_min = resumed ? resumed.updated_at_min : since === null ? null : updatedAtMin(since, tz);
  // An incremental scan also asks for users whose changed participant shows no certificate: the doc does not say
  // whether deleting a diploma clears certificate_issued_at, and a deletion must not go unseen. A first (full) scan
  // has nothing stored to delete, and would otherwise ask for every enrolment that never earned a diploma.
  const incremental = updated_at_min !== null;

  let startedAt: Date | null = resumed ? new Date(resumed.started_at) : null;
  let maxSeen = resumed?.max_seen ?? null;
  let scanSeen: SeenParticipants = { ...resumed?.seen };
  // Only for the page the crashed run was in: which of its participants' users were saved already.
  let resumeDone: SeenParticipants = resumed?.done ?? {};
  // One call returns all of a user's diplomas: a user met again on a later page of this run is not asked twice
  // (a change since then is stamped after the scan began, and the next scan reads it).
  const fetchedThisRun = new Set<number>();
  let read = 0;
  // When FrontCore answered the participants page being handled (its clock), for times in the repeated autumn hour.
  let pageAnsweredAt: Date | null = null;

  const pages = guardedPages<Participant, number>(
    async (afterId) => {
      const { participants, answeredAt } = await listParticipants(ctx, { since_id: afterId, updated_at_min });
      startedAt ??= answeredAt ?? ctx.now();
      pageAnsweredAt = answeredAt;
      let last = afterId;
      for (const p of participants) {
        // since_id is "only items after that id": a page that breaks it would make keyed paging skip or loop.
        if (p.id <= last) throw new AppError('provider_error', `${PARTICIPANTS} returned participants out of id order (${p.id} after ${last}); since_id paging needs ascending ids`);
        last = p.id;
      }
      // "a page shorter than limit is the last" (no total-count headers).
      return { items: participants, next: participants.length < PARTICIPANTS_PAGE_LIMIT ? null : last };
    },
    { first: resumed?.after_id ?? 0, endpoint: PARTICIPANTS, key: String },
  );

  for await (const { items: participants, cursor, next } of pages) {
    ctx.signal.throwIfAborted();
    const started = startedAt ?? ctx.now();
    const before: Pick<ScanState, 'max_seen' | 'seen'> = { max_seen: maxSeen, seen: scanSeen };

    // Users whose diplomas may have changed, with the participants that say so.
    const users = new Map<number, Participant[]>();
    const pageSeen: SeenParticipants = {};
    for (const p of participants) {
      maxSeen = laterZoneless(maxSeen, p.updated_at, tz);
      const key = String(p.id);
      const userId = userIdOf(p);
      // Read again with the same updated_at as when a complete scan handled it: nothing of it changed.
      const unchanged = known[key] === p.updated_at;
      if (!unchanged && userId !== null && (p.certificate_issued_at || incremental)) users.set(userId, [...(users.get(userId) ?? []), p]);
      if (settledBefore(p.updated_at, started, tz, pageAnsweredAt)) pageSeen[key] = p.updated_at;
    }
    // A resumed page skips a user only if the crashed run saved that user and none of its participants moved since.
    const saved = (ps: Participant[]): boolean => ps.every((p) => resumeDone[String(p.id)] === p.updated_at);
    const done: SeenParticipants = {};
    const pending: [number, Participant[]][] = [];
    for (const [userId, ps] of users) {
      if (saved(ps) || fetchedThisRun.has(userId)) for (const p of ps) done[String(p.id)] = p.updated_at;
      else pending.push([userId, ps]);
    }
    resumeDone = {};

    const lastPage = next === null;
    for (let i = 0; i === 0 || i < pending.length; i += USERS_PER_PAGE) {
      ctx.signal.throwIfAborted();
      const chunk = pending.slice(i, i + USERS_PER_PAGE);
      const diplomas: Diploma[] = [];
      for (const [userId, ps] of chunk) {
        diplomas.push(...(await listDiplomas(ctx, { user_id: userId })));
        fetchedThisRun.add(userId);
        for (const p of ps) done[String(p.id)] = p.updated_at;
      }
      const certificates = new Map<string, NormalizedCertificate>();
      for (const d of diplomas) certificates.set(String(d.id), toCertificate(d, { timeZone: tz }));

      let result: FrontcoreCheckpoint;
      if (i + USERS_PER_PAGE < pending.length) {
        // Mid page: a resumed run reads this participants page again and skips the users already saved.
        result = { v: 2, since, seen: known, scan: { updated_at_min, after_id: cursor, started_at: started.toISOString(), ...before, done: { ...done } } };
      } else if (lastPage) {
        // The scan is complete: only now does the high-water mark move.
        const newSince = nextSince(since, maxSeen, started, tz);
        result = { v: 2, since: newSince, seen: pruneSeen({ ...scanSeen, ...pageSeen }, newSince, tz) };
      } else {
        // The final mark will not be lower than this one: what falls below its window can be forgotten already.
        scanSeen = pruneSeen({ ...scanSeen, ...pageSeen }, nextSince(since, maxSeen, started, tz), tz);
        result = { v: 2, since, seen: known, scan: { updated_at_min, after_id: next, started_at: started.toISOString(), max_seen: maxSeen, seen: scanSeen, done: {} } };
      }
      const share = pending.length === 0 ? 1 : Math.min(i + USERS_PER_PAGE, pending.length) / pending.length;
      yield {
        certificates: [...certificates.values()],
        achievements: pageCourses(diplomas, i === 0 ? participants : []),
        checkpoint: { ...result },
        progress: { done: read + Math.round(participants.length * share) },
      };
    }
    read += participants.length;
  }
}
