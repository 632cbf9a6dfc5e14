/** Falkor timestamps -> ISO UTC instants and calendar dates (pure). */
import { formatZoneless, parseZoneless } from '../../domain/time.ts';

/**
 * Falkor's accounts are Norwegian: the doc's example `2021-09-28T11:14:23+02:00` is Oslo summer time.
 * A timestamp without zone is read in this zone, and `valid_from` is the calendar day there.
 */
export const FALKOR_TIME_ZONE = 'Europe/Oslo';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Epoch ms of a Falkor timestamp (offset, `Z`, or zone-less in `timeZone`), or null if unreadable. */
export function parseFalkorTimestamp(text: string, timeZone = FALKOR_TIME_ZONE): number | null {
  const m = ISO.exec(text.trim());
  if (m === null) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', zone] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Date.UTC rolls 2024-02-30 over into March: a date that does not read back is malformed.
  if (Number.isNaN(wall) || new Date(wall).toISOString().slice(0, 10) !== `${y}-${mo}-${d}` || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  if (zone !== undefined) {
    if (zone.toUpperCase() === 'Z') return wall;
    const digits = zone.replace(':', '');
    const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || '0');
    return wall - (digits.startsWith('-') ? -1 : 1) * minutes * 60_000;
  }
  return parseZoneless(`${y}-${mo}-${d} ${h.padStart(2, '0')}:${mi.padStart(2, '0')}:${s.padStart(2, '0')}`, timeZone)?.getTime() ?? null;
}

/** `2021-09-28T09:14:23Z`: ISO-8601 UTC, whole seconds (fractions dropped, as the store keeps them). */
export function toIsoUtc(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `YYYY-MM-DD`: the calendar day in `timeZone` at the instant `ms`. */
export function calendarDate(ms: number, timeZone = FALKOR_TIME_ZONE): string {
  return formatZoneless(new Date(ms), timeZone).slice(0, 10);
}
