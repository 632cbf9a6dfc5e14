import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diplomasResponseSchema, participantsResponseSchema } from './schema.ts';
import { readFrontcoreCheckpoint, toCertificate, zonelessToUtc } from './index.ts';
import { pageCourses } from './normalize.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

describe('FrontCore normalize (recorded payloads)', () => {
  it('maps recorded diplomas field for field to what the simulator says they are, deleted ones included', () => {
    const { items } = diplomasResponseSchema.parse(fixture('diplomas.json'));
    const normalized = items.map((d) => toCertificate(d, 'Europe/Oslo')).map(({ raw: _raw, subject: { national_id: _nin, ...subject }, ...c }) => ({ ...c, subject }));
    const truth = fixture('diplomas.truth.json') as { external_id: string }[];
    expect(normalized.sort((a, b) => (a.external_id < b.external_id ? -1 : 1))).toEqual(truth);
    expect(normalized.some((c) => c.status === 'deleted' && c.file.available === false)).toBe(true);
  });

  it('keeps the national id number only in memory for matching, and the raw payload minus the download token', () => {
    const { items } = diplomasResponseSchema.parse(fixture('diplomas.json'));
    const d = items[0];
    if (!d) throw new Error('fixture is empty');
    const c = toCertificate(d, 'Europe/Oslo');
    expect(c.subject.national_id ?? null).toBe(d.user.national_identification_number ?? null);
    expect(d.links?.download).toMatch(/token=/);
    const raw = c.raw as typeof d;
    expect(raw.links?.download).not.toMatch(/token=/);
    expect({ ...raw, links: d.links }).toEqual(d);
    // A fresh token on the next request does not make the diploma look changed.
    const again = toCertificate({ ...d, links: { ...d.links, download: `${String(d.links?.download).split('?')[0]}?token=another` } }, 'Europe/Oslo');
    expect(again.raw).toEqual(c.raw);
  });

  it('reads zone-less datetimes in the source zone, across daylight saving time', () => {
    expect(zonelessToUtc('2024-07-01 12:00:00', 'Europe/Oslo')).toBe('2024-07-01T10:00:00Z');
    expect(zonelessToUtc('2024-01-15 12:00:00', 'Europe/Oslo')).toBe('2024-01-15T11:00:00Z');
    expect(zonelessToUtc('2024-01-15 12:00:00', 'America/New_York')).toBe('2024-01-15T17:00:00Z');
    expect(zonelessToUtc('not a date', 'Europe/Oslo')).toBeNull();
  });

  it('collects each course seen on a page once, from diplomas and participants', () => {
    const { items } = diplomasResponseSchema.parse(fixture('diplomas.json'));
    const participants = participantsResponseSchema.parse(fixture('participants.json'));
    const courses = pageCourses(items, participants);
    expect(new Set(courses.map((c) => c.external_id)).size).toBe(courses.length);
    expect(courses.every((c) => c.type === 'course' && c.title !== null)).toBe(true);
  });

  it('treats a checkpoint that is not its own as none (a fresh scan)', () => {
    expect(readFrontcoreCheckpoint({ offset: 3 })).toBeNull();
    expect(readFrontcoreCheckpoint({ v: 1, since: '2024-01-01 10:00:00', recent: {} })).toMatchObject({ since: '2024-01-01 10:00:00' });
  });
});
