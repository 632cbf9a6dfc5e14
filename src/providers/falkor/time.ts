/** Falkor timestamps -> ISO UTC instants and calendar dates (pure). */

/**
 * Falkor's accounts are Norwegian: the doc's example `2021-09-28T11:14:23+02:00` is Oslo summer time.
 * A timestamp without zone is read in this zone, and `valid_from` is the calendar day there.
 */
export const FALKOR_TIME_ZONE = 'Europe/Oslo';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const formatters = new Map<string, Intl.DateTimeFormat>();
function partsIn(ms: number, timeZone: string): Record<string, string> {
  let fmt = formatters.get(timeZone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, fmt);
  }
  const out: Record<string, string> = {};
  for (const p of fmt.formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
}

function offsetMs(ms: number, timeZone: string): number {
  const p = partsIn(ms, timeZone);
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

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
  // Zone-less: two passes settle the offset also next to a DST change.
  let t = wall - offsetMs(wall, timeZone);
  t = wall - offsetMs(t, timeZone);
  return t;
}

/** `2021-09-28T09:14:23Z`: ISO-8601 UTC, whole seconds (fractions dropped, as the store keeps them). */
export function toIsoUtc(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `YYYY-MM-DD`: the calendar day in `timeZone` at the instant `ms`. */
export function calendarDate(ms: number, timeZone = FALKOR_TIME_ZONE): string {
  const p = partsIn(ms, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}
