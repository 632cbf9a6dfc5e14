import type { CertificateStatus, Validity } from './certificate.ts';

export const DEFAULT_TIME_ZONE = 'Europe/Oslo';

export interface ValidityInput {
  status: CertificateStatus;
  /** YYYY-MM-DD, inclusive. */
  valid_from: string | null;
  /** YYYY-MM-DD, inclusive: valid through the end of that day in the time zone. */
  valid_until: string | null;
}

// Intl.DateTimeFormat is expensive to build and immutable once built, so one per zone is memoized.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      calendar: 'gregory',
      numberingSystem: 'latn',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when Intl knows the IANA zone name (e.g. `Europe/Oslo`). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The calendar date (YYYY-MM-DD) that `instant` falls on in `timeZone`. */
export function calendarDate(instant: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  const parts = formatterFor(timeZone).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}`;
}

/**
 * What a certificate is worth at `now`: the status decides first (revoked, deleted, pending), then the
 * calendar day of `now` in `timeZone` against the inclusive `valid_from` .. `valid_until` range.
 */
export function validity(cert: ValidityInput, now: Date, timeZone: string = DEFAULT_TIME_ZONE): Validity {
  switch (cert.status) {
    case 'revoked':
      return 'revoked';
    case 'deleted':
      return 'deleted';
    case 'pending':
      return 'pending';
    case 'awarded':
      break;
  }
  // YYYY-MM-DD strings compare correctly as text.
  const today = calendarDate(now, timeZone);
  if (cert.valid_from !== null && today < cert.valid_from) return 'not_yet_valid';
  if (cert.valid_until !== null && today > cert.valid_until) return 'expired';
  return 'valid';
}
