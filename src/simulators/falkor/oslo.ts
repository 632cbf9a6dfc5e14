/**
 * Falkor's timestamps (`2021-09-28T11:14:23+02:00`: Oslo wall-clock time with its numeric offset),
 * written fast enough for a quarter of a million per answer: the zone's offset is asked of Intl once
 * per UTC day (per hour on the two days a year it changes), day texts are memoized. Byte for byte what
 * `formatWithOffset(date, 'Europe/Oslo')` gives (a test checks).
 */
import { offsetMinutes } from '../common/time.ts';

export const FALKOR_TIME_ZONE = 'Europe/Oslo';

export interface OsloFormat {
  /** `2021-09-28T11:14:23+02:00`. */
  timestamp(ms: number): string;
  /** The Oslo calendar day of an instant, `YYYY-MM-DD`. */
  localDate(ms: number): string;
  /** ISO-8601 UTC without milliseconds, `2021-09-28T09:14:23Z`. */
  isoUtc(ms: number): string;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

function offsetText(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

export function createOsloFormat(timeZone = FALKOR_TIME_ZONE): OsloFormat {
  const dayTexts = new Map<number, string>();
  /** UTC day -> offset in minutes for the whole day, or NaN when it changes that day. */
  const dayOffsets = new Map<number, number>();
  const hourOffsets = new Map<number, number>();

  const dayText = (day: number): string => {
    let text = dayTexts.get(day);
    if (text === undefined) {
      text = new Date(day * DAY).toISOString().slice(0, 10);
      dayTexts.set(day, text);
    }
    return text;
  };
  // Zones change offset on the hour (UTC) and at most once a day: equal offsets at both ends of a UTC day
  // mean the whole day has it.
  const offsetAt = (ms: number): number => {
    const day = Math.floor(ms / DAY);
    let whole = dayOffsets.get(day);
    if (whole === undefined) {
      const first = offsetMinutes(new Date(day * DAY), timeZone);
      const last = offsetMinutes(new Date(day * DAY + DAY - 1000), timeZone);
      whole = first === last ? first : NaN;
      dayOffsets.set(day, whole);
    }
    if (!Number.isNaN(whole)) return whole;
    const hour = Math.floor(ms / HOUR);
    let off = hourOffsets.get(hour);
    if (off === undefined) {
      off = offsetMinutes(new Date(hour * HOUR), timeZone);
      hourOffsets.set(hour, off);
    }
    return off;
  };
  const clockTime = (ms: number): string => {
    const secs = Math.floor((ms - Math.floor(ms / DAY) * DAY) / 1000);
    return `${two(Math.floor(secs / 3600))}:${two(Math.floor(secs / 60) % 60)}:${two(secs % 60)}`;
  };

  return {
    timestamp(ms) {
      const off = offsetAt(ms);
      const local = Math.floor(ms / 1000) * 1000 + off * 60_000;
      return `${dayText(Math.floor(local / DAY))}T${clockTime(local)}${offsetText(off)}`;
    },
    localDate(ms) {
      return dayText(Math.floor((ms + offsetAt(ms) * 60_000) / DAY));
    },
    isoUtc(ms) {
      const whole = Math.floor(ms / 1000) * 1000;
      return `${dayText(Math.floor(whole / DAY))}T${clockTime(whole)}Z`;
    },
  };
}
