/** Wall-clock times as providers print them: FrontCore without zone, Falkor with a numeric offset. Pure. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(date: Date, timeZone: string): Record<string, string> {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
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
  for (const p of fmt.formatToParts(date)) out[p.type] = p.value;
  return out;
}

/** `2024-02-15 09:00:00`: local wall-clock time in `timeZone`, no zone designator (FrontCore). */
export function formatZoneless(date: Date, timeZone: string): string {
  const p = partsIn(date, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** Minutes east of UTC that `timeZone` is at `date`. */
export function offsetMinutes(date: Date, timeZone: string): number {
  const p = partsIn(date, timeZone);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
}

/** `2021-09-28T11:14:23+02:00`: local time in `timeZone` with its offset (Falkor). */
export function formatWithOffset(date: Date, timeZone: string): string {
  const off = offsetMinutes(date, timeZone);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${formatZoneless(date, timeZone).replace(' ', 'T')}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * Reads a zone-less `YYYY-MM-DD[ HH:mm:ss]` as wall-clock time in `timeZone`; null if malformed. A text that carries
 * its own offset (`2025-11-04T12:58:01+01:00`, `...Z`; a fraction of a second is cut) is that instant, whatever
 * `timeZone` says: providers documented as zone-less have been seen printing offsets on some endpoints.
 */
export function parseZoneless(text: string, timeZone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  if (!m) return null;
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  // Date.UTC rolls month 13 over into next year: a date that does not read back is malformed.
  const back = new Date(guess).toISOString();
  if (Number.isNaN(guess) || back.slice(0, 10) !== `${m[1]}-${m[2]}-${m[3]}` || Number(m[4] ?? 0) > 23) return null;
  const zone = m[7];
  if (zone !== undefined) {
    if (m[4] === undefined) return null;
    if (zone.toUpperCase() === 'Z') return new Date(guess);
    const digits = zone.slice(1).replace(':', '');
    const offset = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
    return new Date(guess - offset * 60_000);
  }
  // Two passes settle the offset also next to a DST change.
  let t = guess - offsetMinutes(new Date(guess), timeZone) * 60_000;
  t = guess - offsetMinutes(new Date(t), timeZone) * 60_000;
  return new Date(t);
}
