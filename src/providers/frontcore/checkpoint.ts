/**
 * The FrontCore checkpoint and the pure time arithmetic of incremental scans. A scan reads every participant with
 * `updated_at >= updated_at_min` (frontcore-notes.md), in id order, 250 at a time (`since_id` = the last id read).
 */
import { z } from 'zod';
import { formatZoneless, offsetMinutes, parseZoneless } from '../../domain/time.ts';
import type { Checkpoint } from '../provider.ts';

/** Participants updated this long before the last high-water mark are read again (clock skew, late writes). */
export const LOOKBACK_MS = 10 * 60_000;
/** Most participants remembered as handled between runs (a bigger window is read again, not lost). */
export const SEEN_CAP = 5000;

/** Participant id -> its `updated_at` when handled (zone-less, as FrontCore printed it). */
export type SeenParticipants = Record<string, string>;

/**
 * - `since`: high-water mark of the last COMPLETE scan (zone-less, source zone): the next scan reads participants
 *   updated at or after `since` minus LOOKBACK_MS. null: no scan completed yet, the next one reads everything.
 * - `seen`: participants that scan handled and the next one will read again (inside the lookback window): read
 *   again with the same `updated_at`, nothing of theirs changed, so their diplomas are not asked for again.
 * - `scan`: a scan in progress (every page but a run's last carries one): a crash resumes it where it stood.
 *   `after_id` is the `since_id` of the participants page to read (again); `done` the participants of that page
 *   whose users' diplomas are already saved; `started_at` FrontCore's clock when the scan began (ISO UTC).
 */
export interface FrontcoreCheckpoint {
  v: 2;
  since: string | null;
  seen: SeenParticipants;
  scan?: ScanState;
}

export interface ScanState {
  updated_at_min: string | null;
  after_id: number;
  started_at: string;
  max_seen: string | null;
  seen: SeenParticipants;
  done: SeenParticipants;
}

const seenSchema = z.record(z.string(), z.string());
const v2Schema = z.object({
  v: z.literal(2),
  since: z.string().nullable(),
  seen: seenSchema,
  scan: z
    .object({
      updated_at_min: z.string().nullable(),
      after_id: z.number().int().nonnegative(),
      started_at: z.string(),
      max_seen: z.string().nullable(),
      seen: seenSchema,
      done: seenSchema,
    })
    .optional(),
});
/** What this connector stored before version 2 (page-numbered scans): its high-water mark is kept, a scan restarts. */
const v1Schema = z.object({ v: z.literal(1), since: z.string().nullable(), recent: seenSchema });

/** The checkpoint, or null when there is none or it is not this connector's (a fresh full scan then). */
export function readFrontcoreCheckpoint(checkpoint: Checkpoint | null): FrontcoreCheckpoint | null {
  const v2 = v2Schema.safeParse(checkpoint);
  if (v2.success) return v2.data;
  const v1 = v1Schema.safeParse(checkpoint);
  return v1.success ? { v: 2, since: v1.data.since, seen: v1.data.recent } : null;
}

const instant = (zoneless: string, tz: string): number => parseZoneless(zoneless, tz)?.getTime() ?? Number.NaN;

const HOUR_MS = 3_600_000;

/**
 * The `updated_at_min` filter for a scan after the high-water mark `since`: LOOKBACK_MS earlier, and two hours
 * earlier still next to a DST change. Around a fall-back change zone-less text is ambiguous: `since` may have meant
 * the first 02:30 (parseZoneless reads the second), and a server comparing text would skip the repeated hour.
 */
export function updatedAtMin(since: string, tz: string): string | null {
  const at = instant(since, tz);
  if (Number.isNaN(at)) return null;
  let t = at - LOOKBACK_MS;
  if (offsetMinutes(new Date(t - 2 * HOUR_MS), tz) !== offsetMinutes(new Date(at + 2 * HOUR_MS), tz)) t -= 2 * HOUR_MS;
  return formatZoneless(new Date(t), tz);
}

/** The later of two zone-less times (by instant); `a` may be null. */
export function laterZoneless(a: string | null, b: string, tz: string): string {
  if (a === null) return b;
  return instant(b, tz) > instant(a, tz) ? b : a;
}

/**
 * The high-water mark after a complete scan. Anything changed after the scan began is stamped at or after
 * `startedAt` (FrontCore's clock), so the mark never passes it: a participant changed behind the scan's position
 * is read by the next scan. Nor does it pass the newest `updated_at` read (a server clock ahead of its data), nor
 * fall below the previous mark (the previous scan covered everything before it).
 */
export function nextSince(previous: string | null, maxSeen: string | null, startedAt: Date, tz: string): string | null {
  if (maxSeen === null) return previous;
  const started = formatZoneless(startedAt, tz);
  const bound = instant(maxSeen, tz) < startedAt.getTime() ? maxSeen : started;
  return previous === null ? bound : laterZoneless(previous, bound, tz);
}

/**
 * The instant of a zone-less `updated_at` that FrontCore sent in an answer given at `answeredAt` (its clock). In the
 * repeated autumn hour the text names two instants an hour apart; parseZoneless reads the later one, which cannot be
 * right when it is after the answer that carried it (nothing is stamped in FrontCore's future), so then it is the earlier.
 */
export function stampedInstant(updatedAt: string, tz: string, answeredAt: Date | null): number {
  const later = instant(updatedAt, tz);
  const earlier = later - HOUR_MS;
  if (answeredAt === null || later <= answeredAt.getTime() || formatZoneless(new Date(earlier), tz) !== updatedAt.trim()) return later;
  return earlier;
}

/**
 * Whether a participant read in a scan that began at `startedAt`, in a page FrontCore answered at `answeredAt`, may be
 * remembered as handled: only if its `updated_at` is a whole second before the scan began. A later change is then
 * stamped differently, even one in the same second as our read (FrontCore stamps whole seconds).
 */
export function settledBefore(updatedAt: string, startedAt: Date, tz: string, answeredAt: Date | null = null): boolean {
  return stampedInstant(updatedAt, tz, answeredAt) <= Math.floor(startedAt.getTime() / 1000) * 1000 - 1000;
}

/**
 * `seen` kept only where a scan from high-water mark `since` will read it again (an hour of margin for the
 * ambiguous autumn hour), newest first, at most SEEN_CAP entries.
 */
export function pruneSeen(seen: SeenParticipants, since: string | null, tz: string): SeenParticipants {
  if (since === null) return {};
  const min = updatedAtMin(since, tz);
  const floor = min === null ? Number.POSITIVE_INFINITY : instant(min, tz) - HOUR_MS;
  const kept = Object.entries(seen)
    .map(([id, at]) => [id, at, instant(at, tz)] as const)
    .filter(([, , t]) => t >= floor);
  if (kept.length > SEEN_CAP) kept.sort((a, b) => b[2] - a[2]).splice(SEEN_CAP);
  return Object.fromEntries(kept.map(([id, at]) => [id, at]));
}
