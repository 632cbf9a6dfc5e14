/**
 * The FrontCore connector: incremental through participants (frontcore-notes.md). Each run pages through
 * `GET /v2/participants` changed since the last run (`updated_at_min` = the last high-water mark minus a
 * lookback window, as zone-less wall-clock time in the source's zone), then fetches `GET /v2/diplomas?user_id=`
 * once per user among those participants that have a certificate (one call returns all of a user's diplomas).
 * Deleted diplomas stay listed with `deleted_at` and are stored as deleted.
 */
import { z } from 'zod';
import { formatZoneless, parseZoneless } from '../../domain/time.ts';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import type { Checkpoint, Page, Provider, PullContext } from '../provider.ts';
import { listDiplomas, listParticipants, PARTICIPANTS_PAGE_LIMIT } from './client.ts';
import { pageCourses, toCertificate } from './normalize.ts';
import { frontcoreConfigSchema, type Diploma, type FrontcoreConfig, type Participant } from './schema.ts';

export { listDiplomas, listParticipants } from './client.ts';
export { toCertificate, zonelessToUtc } from './normalize.ts';

/** Participants updated this long before the last high-water mark are read again (late or same-second writes). */
export const LOOKBACK_MS = 10 * 60_000;

/**
 * - `since`: the newest participant `updated_at` of the last COMPLETE scan (zone-less, source zone); null: none yet.
 * - `recent`: participants (id -> updated_at) within the lookback window of `since`: when the next scan sees them
 *   again unchanged, their diplomas are not fetched again.
 * - `scan`: set on every page but a run's last: where the scan in progress resumes after a crash.
 */
export interface FrontcoreCheckpoint {
  v: 1;
  since: string | null;
  recent: Record<string, string>;
  scan?: { updated_at_min: string | null; page: number; max_seen: string | null; recent: Record<string, string>; done?: Record<string, string> };
}

/** Users whose diplomas go into one page: progress shows, and a crash repeats at most this many requests. */
export const USERS_PER_PAGE = 20;

const checkpointSchema = z.object({
  v: z.literal(1),
  since: z.string().nullable(),
  recent: z.record(z.string(), z.string()),
  scan: z
    .object({ updated_at_min: z.string().nullable(), page: z.number().int().positive(), max_seen: z.string().nullable(), recent: z.record(z.string(), z.string()), done: z.record(z.string(), z.string()).optional() })
    .optional(),
});

export function readFrontcoreCheckpoint(checkpoint: Checkpoint | null): FrontcoreCheckpoint | null {
  const parsed = checkpointSchema.safeParse(checkpoint);
  return parsed.success ? parsed.data : null;
}

function later(a: string | null, b: string, tz: string): string {
  if (a === null) return b;
  return (parseZoneless(b, tz)?.getTime() ?? 0) > (parseZoneless(a, tz)?.getTime() ?? 0) ? b : a;
}

/** Participants within the lookback window of `max`, to recognise them unchanged next time. */
function recentOf(all: Record<string, string>, max: string | null, tz: string): Record<string, string> {
  if (max === null) return {};
  const floor = (parseZoneless(max, tz)?.getTime() ?? 0) - LOOKBACK_MS;
  return Object.fromEntries(Object.entries(all).filter(([, at]) => (parseZoneless(at, tz)?.getTime() ?? 0) >= floor));
}

export async function* pullFrontcoreDiplomas(ctx: PullContext<FrontcoreConfig>, checkpoint: Checkpoint | null): AsyncGenerator<Page> {
  const tz = ctx.config.timezone;
  const previous = ctx.full ? null : readFrontcoreCheckpoint(checkpoint);
  const since = previous?.since ?? null;
  const known = previous?.recent ?? {};
  const sinceMs = since === null ? null : parseZoneless(since, tz)?.getTime() ?? null;
  const scan = previous?.scan ?? {
    updated_at_min: sinceMs === null ? null : formatZoneless(new Date(sinceMs - LOOKBACK_MS), tz),
    page: 1,
    max_seen: null,
    recent: {},
  };
  let { page, max_seen: maxSeen } = scan;
  const seenRecent: Record<string, string> = { ...scan.recent };
  // Participants (id -> updated_at) of the current participants page whose user's diplomas a crashed run saved.
  let resumeDone: Record<string, string> = scan.done ?? {};
  // One call returns all of a user's diplomas: a user met again on a later participants page is not asked twice.
  const fetchedThisRun = new Set<number>();

  for (;;) {
    ctx.signal.throwIfAborted();
    const participants: Participant[] = await listParticipants(ctx.http, ctx.config, { page, updated_at_min: scan.updated_at_min }, ctx.signal);
    // What a crash mid-page resumes with: the scan as it stood before this participants page.
    const scanMaxBefore = maxSeen;
    const recentBefore = { ...seenRecent };
    // Users whose diplomas may have changed: a participant with a certificate, not already seen in this state.
    const users = new Map<number, Participant[]>();
    for (const p of participants) {
      maxSeen = later(maxSeen, p.updated_at, tz);
      seenRecent[String(p.id)] = p.updated_at;
      const unchangedSinceLastRun = known[String(p.id)] === p.updated_at;
      const userId = p.user_id ?? p.user?.id;
      if (p.certificate_issued_at && !unchangedSinceLastRun && userId !== null && userId !== undefined) users.set(userId, [...(users.get(userId) ?? []), p]);
    }
    // Diplomas in chunks of users. A resumed scan skips a user only if a crashed run saved that user's diplomas
    // and none of the user's participants changed since (a change moves the participant's updated_at).
    const savedUnchanged = (ps: Participant[]): boolean => ps.every((p) => resumeDone[String(p.id)] === p.updated_at);
    const pending = [...users.entries()].filter(([userId, ps]) => !savedUnchanged(ps) && !fetchedThisRun.has(userId));
    const done: Record<string, string> = Object.fromEntries(
      [...users.values()].filter(savedUnchanged).flat().map((p) => [String(p.id), p.updated_at]),
    );
    resumeDone = {};
    const last = participants.length < PARTICIPANTS_PAGE_LIMIT;
    for (let i = 0; i === 0 || i < pending.length; i += USERS_PER_PAGE) {
      ctx.signal.throwIfAborted();
      const chunk = pending.slice(i, i + USERS_PER_PAGE);
      const diplomas: Diploma[] = [];
      for (const [userId] of chunk) {
        diplomas.push(...(await listDiplomas(ctx.http, ctx.config, { user_id: userId }, ctx.signal)));
        fetchedThisRun.add(userId);
      }
      const byId = new Map<number, NormalizedCertificate>();
      for (const d of diplomas) byId.set(d.id, toCertificate(d, tz));
      for (const [, ps] of chunk) for (const p of ps) done[String(p.id)] = p.updated_at;
      const pageDone = i + USERS_PER_PAGE >= pending.length;
      const next: FrontcoreCheckpoint =
        last && pageDone
          ? { v: 1, since: maxSeen ?? since, recent: maxSeen === null ? known : recentOf(seenRecent, maxSeen, tz) }
          : pageDone
            ? { v: 1, since, recent: known, scan: { updated_at_min: scan.updated_at_min, page: page + 1, max_seen: maxSeen, recent: seenRecent } }
            : { v: 1, since, recent: known, scan: { updated_at_min: scan.updated_at_min, page, max_seen: scanMaxBefore, recent: recentBefore, done: { ...done } } };
      yield {
        certificates: [...byId.values()],
        achievements: pageCourses(diplomas, i === 0 ? participants : []),
        checkpoint: { ...next },
        progress: { done: (page - 1) * PARTICIPANTS_PAGE_LIMIT + Math.round((participants.length * Math.min(i + USERS_PER_PAGE, pending.length || 1)) / (pending.length || 1)) },
      };
    }
    if (last) return;
    page += 1;
  }
}

export function createFrontcoreProvider(): Provider<FrontcoreConfig> {
  return {
    id: 'frontcore',
    configSchema: frontcoreConfigSchema,
    completeness: 'incremental',
    // "We will enforce a rate limit of 5 requests per second per account" (frontcore-api-overview.txt)
    rateLimit: { requests: 5, perSeconds: 1 },
    pull: pullFrontcoreDiplomas,
  };
}

export const frontcoreProvider: Provider<FrontcoreConfig> = createFrontcoreProvider();
