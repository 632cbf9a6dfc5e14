/**
 * Fast zone-less wall-clock formatting for FrontCore (`2024-02-15 09:00:00`, Europe/Oslo).
 * common/time.ts's formatZoneless goes through Intl for every call, which is too slow for pages of
 * hundreds of records with ten timestamps each; this caches the zone offset per UTC day (per hour
 * on DST days) and the date text per day, and falls back to common/time.ts inside a changing hour.
 */
import { formatZoneless, offsetMinutes, parseZoneless } from '../common/time.ts';

export interface ZonelessClock {
  timezone: string;
  /** `YYYY-MM-DD HH:mm:ss` in the zone; identical to common/time.ts formatZoneless. */
  format(ms: number): string;
  /** `YYYY-MM-DD`, the local calendar date. */
  date(ms: number): string;
  /** The instant a reader gets back from `format(ms)` (differs only in the repeated autumn hour). */
  readBack(ms: number): number;
  /** Strict `yyyy-mm-dd` or `yyyy-mm-dd hh:mm:ss` in the zone, or null. */
  parse(text: string): number | null;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

export function createZonelessClock(timezone: string): ZonelessClock {
  // Zone offset in minutes per UTC day, or per UTC hour on a day with a DST change (NaN: the
  // offset changes within that span; a change is assumed to fall on a whole UTC hour, as in Europe).
  const byDay = new Map<number, number>();
  const byHour = new Map<number, number>();
  const offsetOver = (start: number, length: number): number => {
    const a = offsetMinutes(new Date(start), timezone);
    return a === offsetMinutes(new Date(start + length - 1000), timezone) ? a : Number.NaN;
  };
  const hourOffset = (ms: number): number => {
    const day = Math.floor(ms / DAY);
    let off = byDay.get(day);
    if (off === undefined) byDay.set(day, (off = offsetOver(day * DAY, DAY)));
    if (!Number.isNaN(off)) return off;
    const hour = Math.floor(ms / HOUR);
    off = byHour.get(hour);
    if (off === undefined) byHour.set(hour, (off = offsetOver(hour * HOUR, HOUR)));
    return off;
  };
  // `YYYY-MM-DD ` per local day number: a few thousand strings for years of data.
  const dayPrefix = new Map<number, string>();
  const format = (ms: number): string => {
    const off = hourOffset(ms);
    if (Number.isNaN(off)) return formatZoneless(new Date(ms), timezone);
    const localMs = ms + off * 60_000;
    const day = Math.floor(localMs / DAY);
    let prefix = dayPrefix.get(day);
    if (prefix === undefined) dayPrefix.set(day, (prefix = `${new Date(day * DAY).toISOString().slice(0, 10)} `));
    const secs = Math.floor((localMs - day * DAY) / 1000);
    return `${prefix}${TWO_DIGITS[Math.floor(secs / 3600)]}:${TWO_DIGITS[Math.floor(secs / 60) % 60]}:${TWO_DIGITS[secs % 60]}`;
  };
  return {
    timezone,
    format,
    date: (ms) => format(ms).slice(0, 10),
    readBack(ms) {
      // A wall-clock time is ambiguous only where the offset an hour or two away differs.
      const off = hourOffset(ms);
      if (off === hourOffset(ms - 2 * HOUR) && off === hourOffset(ms + 2 * HOUR)) return ms;
      return parseZoneless(format(ms), timezone)?.getTime() ?? ms;
    },
    parse(text) {
      if (!/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$/.test(text)) return null;
      const d = parseZoneless(text, timezone);
      if (!d) return null;
      const [, time = '00:00:00'] = text.split(' ');
      const [hh = '0', mm = '0', ss = '0'] = time.split(':');
      return Number(mm) > 59 || Number(ss) > 59 || Number(hh) > 23 ? null : d.getTime();
    },
  };
}

/** Whole seconds: FrontCore prints seconds, so stored instants never carry milliseconds. */
export const toSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;
