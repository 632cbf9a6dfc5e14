import { describe, expect, it } from 'vitest';
import { calendarDate, isValidTimeZone, validity, type ValidityInput } from './validity.ts';

const awarded = (valid_from: string | null, valid_until: string | null): ValidityInput => ({
  status: 'awarded',
  valid_from,
  valid_until,
});
const at = (iso: string): Date => new Date(iso);

describe('validity', () => {
  it('lets status decide before dates', () => {
    const now = at('2024-06-01T12:00:00Z');
    expect(validity({ status: 'revoked', valid_from: null, valid_until: '2030-01-01' }, now)).toBe('revoked');
    expect(validity({ status: 'deleted', valid_from: null, valid_until: '2030-01-01' }, now)).toBe('deleted');
    expect(validity({ status: 'pending', valid_from: null, valid_until: null }, now)).toBe('pending');
    expect(validity({ status: 'revoked', valid_from: null, valid_until: '2000-01-01' }, now)).toBe('revoked');
  });

  it('is valid without dates, and between them', () => {
    const now = at('2024-06-01T12:00:00Z');
    expect(validity(awarded(null, null), now)).toBe('valid');
    expect(validity(awarded('2024-01-01', '2024-12-31'), now)).toBe('valid');
    expect(validity(awarded('2024-06-01', '2024-06-01'), now)).toBe('valid');
  });

  it('keeps a certificate valid through the end of valid_until in Oslo summer time (UTC+2)', () => {
    const cert = awarded(null, '2024-03-31');
    expect(validity(cert, at('2024-03-31T21:59:59Z'))).toBe('valid'); // 23:59:59 CEST
    expect(validity(cert, at('2024-03-31T22:00:00Z'))).toBe('expired'); // 00:00 on April 1st
  });

  it('keeps a certificate valid through the end of valid_until in Oslo winter time (UTC+1)', () => {
    const cert = awarded(null, '2024-01-31');
    expect(validity(cert, at('2024-01-31T22:59:59Z'))).toBe('valid');
    expect(validity(cert, at('2024-01-31T23:00:00Z'))).toBe('expired');
  });

  it('handles the spring-forward day (2024-03-31, 02:00 CET -> 03:00 CEST)', () => {
    const endsDayBefore = awarded(null, '2024-03-30');
    expect(validity(endsDayBefore, at('2024-03-30T22:59:59Z'))).toBe('valid'); // still CET
    expect(validity(endsDayBefore, at('2024-03-30T23:00:00Z'))).toBe('expired');
    const startsThatDay = awarded('2024-03-31', null);
    expect(validity(startsThatDay, at('2024-03-30T22:59:59Z'))).toBe('not_yet_valid');
    expect(validity(startsThatDay, at('2024-03-30T23:00:00Z'))).toBe('valid');
    // The 23-hour day itself: 01:30 UTC is 03:30 CEST, still March 31st.
    expect(calendarDate(at('2024-03-31T01:30:00Z'))).toBe('2024-03-31');
  });

  it('handles the fall-back day (2024-10-27, 03:00 CEST -> 02:00 CET)', () => {
    const endsDayBefore = awarded(null, '2024-10-26');
    expect(validity(endsDayBefore, at('2024-10-26T21:59:59Z'))).toBe('valid'); // 23:59:59 CEST
    expect(validity(endsDayBefore, at('2024-10-26T22:00:00Z'))).toBe('expired');
    const endsThatDay = awarded(null, '2024-10-27');
    expect(validity(endsThatDay, at('2024-10-27T22:59:59Z'))).toBe('valid'); // 23:59:59 CET, a 25-hour day
    expect(validity(endsThatDay, at('2024-10-27T23:00:00Z'))).toBe('expired');
  });

  it('is not yet valid before valid_from in the zone, even when UTC already says that day', () => {
    const cert = awarded('2024-07-01', null);
    expect(validity(cert, at('2024-06-30T21:59:59Z'))).toBe('not_yet_valid');
    expect(validity(cert, at('2024-06-30T22:00:00Z'))).toBe('valid');
  });

  it('uses the time zone it is given', () => {
    const cert = awarded(null, '2024-03-31');
    const now = at('2024-03-31T22:30:00Z');
    expect(validity(cert, now, 'Europe/Oslo')).toBe('expired');
    expect(validity(cert, now, 'UTC')).toBe('valid');
    expect(validity(cert, now, 'America/New_York')).toBe('valid');
    expect(validity(awarded(null, '2024-03-31'), at('2024-03-31T10:30:00Z'), 'Pacific/Kiritimati')).toBe('expired');
  });
});

describe('time zones', () => {
  it('knows IANA names and rejects others', () => {
    expect(isValidTimeZone('Europe/Oslo')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Europe/Nowhere')).toBe(false);
  });
});
