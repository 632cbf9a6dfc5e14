import { describe, expect, it } from 'vitest';
import { nextSince, pruneSeen, readFrontcoreCheckpoint, SEEN_CAP, settledBefore, stampedInstant, updatedAtMin } from './checkpoint.ts';

const OSLO = 'Europe/Oslo';

describe('FrontCore incremental scan arithmetic', () => {
  it('updated_at_min is the high-water mark minus 10 minutes, as zone-less wall-clock text in the source zone', () => {
    expect(updatedAtMin('2024-02-15 09:00:00', OSLO)).toBe('2024-02-15 08:50:00');
    expect(updatedAtMin('2024-03-01 00:05:00', OSLO)).toBe('2024-02-29 23:55:00');
    expect(updatedAtMin('garbage', OSLO)).toBeNull();
  });

  it('next to a DST change it reaches two hours further back, so neither reading of an ambiguous time loses changes', () => {
    // 2025-10-26: 03:00 CEST became 02:00 CET, so 02:00-02:59 happened twice. Every instant from 10 minutes before
    // the FIRST 02:55 (00:45Z) prints at or after 01:45 (text comparison) and is at or after it (instant comparison).
    expect(updatedAtMin('2025-10-26 02:55:00', OSLO)).toBe('2025-10-26 01:45:00');
    expect(updatedAtMin('2025-10-26 03:30:00', OSLO)).toBe('2025-10-26 02:20:00');
    // 2025-03-30: 02:00-02:59 never happened.
    expect(updatedAtMin('2025-03-30 03:05:00', OSLO)).toBe('2025-03-29 23:55:00');
    // Far from a change: only the lookback.
    expect(updatedAtMin('2025-10-26 12:00:00', OSLO)).toBe('2025-10-26 11:50:00');
  });

  it('the high-water mark never passes the scan start (changes behind the scan position) nor the newest updated_at read', () => {
    const started = new Date('2026-06-02T10:00:00Z'); // 12:00:00 in Oslo
    expect(nextSince(null, '2026-06-02 11:00:00', started, OSLO)).toBe('2026-06-02 11:00:00');
    expect(nextSince(null, '2026-06-02 12:30:00', started, OSLO)).toBe('2026-06-02 12:00:00');
    // A scan that read nothing keeps the previous mark; the mark never moves back.
    expect(nextSince('2026-06-01 08:00:00', null, started, OSLO)).toBe('2026-06-01 08:00:00');
    expect(nextSince('2026-06-02 11:30:00', '2026-06-02 11:00:00', started, OSLO)).toBe('2026-06-02 11:30:00');
  });

  it('a participant is remembered as handled only if it was stamped a whole second before the scan began', () => {
    const started = new Date('2026-06-02T10:00:05.400Z'); // 12:00:05 in Oslo
    expect(settledBefore('2026-06-02 12:00:04', started, OSLO)).toBe(true);
    expect(settledBefore('2026-06-02 12:00:05', started, OSLO)).toBe(false);
    expect(settledBefore('2026-06-02 12:00:06', started, OSLO)).toBe(false);
  });

  it('in the repeated autumn hour a time is the later of its two instants unless FrontCore answered before that', () => {
    // 2026-10-25: Oslo's 02:00-03:00 happens twice, at 00:00-01:00 UTC (summer time) and 01:00-02:00 UTC (winter).
    const firstPass = new Date('2026-10-25T00:55:30Z'); // 02:55:30 the first time
    const secondPass = new Date('2026-10-25T01:55:30Z'); // 02:55:30 the second time
    expect(stampedInstant('2026-10-25 02:55:00', OSLO, null)).toBe(Date.parse('2026-10-25T01:55:00Z'));
    expect(stampedInstant('2026-10-25 02:55:00', OSLO, secondPass)).toBe(Date.parse('2026-10-25T01:55:00Z'));
    expect(stampedInstant('2026-10-25 02:55:00', OSLO, firstPass)).toBe(Date.parse('2026-10-25T00:55:00Z'));
    // Read half an hour later (still before the second 02:55), a change stamped in the first pass is settled.
    expect(settledBefore('2026-10-25 02:55:00', new Date('2026-10-25T01:25:00Z'), OSLO, new Date('2026-10-25T01:25:00Z'))).toBe(true);
    // Outside that hour, and without an answer time, nothing changes.
    expect(stampedInstant('2026-10-25 03:30:00', OSLO, firstPass)).toBe(Date.parse('2026-10-25T02:30:00Z'));
    expect(settledBefore('2026-10-25 02:55:00', new Date('2026-10-25T01:25:00Z'), OSLO)).toBe(false);
  });

  it('remembers only what the next scan reads again, newest first, at most SEEN_CAP', () => {
    const seen = { '1': '2026-06-02 11:55:00', '2': '2026-06-02 09:00:00', '3': '2026-06-02 11:59:59' };
    expect(pruneSeen(seen, '2026-06-02 12:00:00', OSLO)).toEqual({ '1': '2026-06-02 11:55:00', '3': '2026-06-02 11:59:59' });
    expect(pruneSeen(seen, null, OSLO)).toEqual({});
    const many = Object.fromEntries(Array.from({ length: SEEN_CAP + 10 }, (_, i) => [String(i), `2026-06-02 11:${String(50 + Math.floor(i / 1000)).padStart(2, '0')}:00`]));
    const kept = pruneSeen(many, '2026-06-02 12:00:00', OSLO);
    expect(Object.keys(kept)).toHaveLength(SEEN_CAP);
    expect(kept[String(SEEN_CAP + 9)]).toBeDefined();
  });

  it('reads its own checkpoints, upgrades the page-numbered version 1, and ignores anything else', () => {
    const v2 = { v: 2, since: '2026-06-02 12:00:00', seen: { '7': '2026-06-02 11:59:00' } };
    expect(readFrontcoreCheckpoint(v2)).toEqual(v2);
    const scan = { updated_at_min: null, after_id: 700250, started_at: '2026-06-02T10:00:00.000Z', max_seen: null, seen: {}, done: { '700251': '2026-06-02 11:00:00' } };
    expect(readFrontcoreCheckpoint({ ...v2, scan })).toEqual({ ...v2, scan });
    // Version 1 numbered its pages: its high-water mark stays, its scan in progress restarts from that mark.
    const v1 = { v: 1, since: '2026-06-01 10:00:00', recent: { '5': '2026-06-01 09:55:00' }, scan: { updated_at_min: null, page: 3, max_seen: null, recent: {} } };
    expect(readFrontcoreCheckpoint(v1)).toEqual({ v: 2, since: '2026-06-01 10:00:00', seen: { '5': '2026-06-01 09:55:00' } });
    expect(readFrontcoreCheckpoint({ offset: 3 })).toBeNull();
    expect(readFrontcoreCheckpoint(null)).toBeNull();
  });
});
