import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { storyCertificatesResponseSchema, type StoryCertificateItem } from './schema.ts';
import { storyAchievementId, toCertificate, toStoryAchievement } from './normalize.ts';
import { calendarDate, parseFalkorTimestamp, toIsoUtc } from './time.ts';

// Recorded once from the Falkor simulator (acme account, trimmed; origin replaced by falkor.example.com),
// with the simulator's ground truth for the same certificates.
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as unknown;
const recorded = storyCertificatesResponseSchema.parse(fixture('story-certificates.json'));
const truth = fixture('story-certificates.truth.json') as ({ external_id: string; person_key?: string } & Record<string, unknown>)[];

const all = recorded.data.flatMap((block) => block.certificates.map((item) => ({ story: block.story, item })));
const find = (firstname: string, storyName: string): { story: (typeof all)[number]['story']; item: StoryCertificateItem } => {
  const hit = all.find((x) => x.item.firstname === firstname && x.story.name === storyName);
  if (!hit) throw new Error(`no fixture item ${firstname} / ${storyName}`);
  return hit;
};

describe('Falkor toCertificate on recorded payloads', () => {
  it('equals the simulator truth field for field (all but person_key), raw = the story + the original item', () => {
    expect(all.length).toBe(truth.length);
    for (const { story, item } of all) {
      const cert = toCertificate(item, { story });
      const expected = truth.find((t) => t.external_id === item.certificate.url);
      expect(expected, item.certificate.url).toBeDefined();
      const { person_key: _ignored, ...fields } = expected ?? {};
      const { raw, ...mapped } = cert;
      expect(mapped).toEqual(fields);
      expect(raw).toEqual({ story, certificate: item });
    }
  });

  it('keeps the parsed payload identical to what Falkor sent (raw is the original)', () => {
    expect(recorded).toEqual(fixture('story-certificates.json'));
  });

  it('pending stays pending, delivered is awarded', () => {
    expect(toCertificate(find('Nora', 'Information security basics').item, { story: find('Nora', 'Information security basics').story }).status).toBe('pending');
    const ali = find('Ali', 'Onboarding: Welcome to the team');
    expect(toCertificate(ali.item, { story: ali.story }).status).toBe('awarded');
  });

  it('story IDs repeat (doc example): the achievement key is ID:name, the type lower-cased ("Story", "SCORM")', () => {
    const [a, b] = recorded.data;
    expect(a?.story.ID).toBe(b?.story.ID);
    expect(storyAchievementId(a!.story)).not.toBe(storyAchievementId(b!.story));
    const scorm = find('Åse', 'Safe lifting technique');
    expect(toStoryAchievement(scorm.story)).toEqual({ type: 'scorm', external_id: `${scorm.story.ID}:Safe lifting technique`, title: 'Safe lifting technique', code: scorm.story.ID });
  });

  it('Norwegian letters and the email as typed (case, spaces) are kept: identity normalizes, not the connector', () => {
    const ase = find('Åse', 'Safe lifting technique');
    expect(toCertificate(ase.item, { story: ase.story }).subject).toEqual({
      provider_user_id: null,
      email: ' Ase.Odegard@Example.NO ',
      first_name: 'Åse',
      last_name: 'Ødegård',
      date_of_birth: null,
    });
  });

  it('offset times across DST: UTC instant, and valid_from is the Oslo day (not the UTC day)', () => {
    const ase = find('Åse', 'Safe lifting technique'); // 2025-03-30T01:30:00+01:00, an hour before the spring change
    expect(toCertificate(ase.item, { story: ase.story })).toMatchObject({ issued_at: '2025-03-30T00:30:00Z', valid_from: '2025-03-30' });
    const bjorn = find('Bjørn', 'Safe lifting technique'); // 2025-10-26T00:30:00+02:00: still 25 October in UTC
    expect(toCertificate(bjorn.item, { story: bjorn.story })).toMatchObject({ issued_at: '2025-10-25T22:30:00Z', valid_from: '2025-10-26' });
  });

  it('nulls, blanks and absent user fields become null; an unreadable timestamp gives no dates', () => {
    const base = find('Ali', 'Onboarding: Welcome to the team');
    const item = storyCertificatesResponseSchema.shape.data.element.shape.certificates.element.parse({
      firstname: '',
      lastname: null,
      telephone: '',
      certificate: { timestamp: 'yesterday', state: 'delivered', url: 'https://falkor.example.com/acme/api/certificates/x' },
    });
    expect(toCertificate(item, { story: base.story })).toMatchObject({
      subject: { provider_user_id: null, email: null, first_name: null, last_name: null, date_of_birth: null },
      issued_at: null,
      valid_from: null,
    });
  });
});

describe('Falkor timestamps (time.ts)', () => {
  const utc = (s: string): string | null => {
    const ms = parseFalkorTimestamp(s);
    return ms === null ? null : toIsoUtc(ms);
  };
  it('offsets, Z, fractions (dropped)', () => {
    expect(utc('2021-09-28T11:14:23+02:00')).toBe('2021-09-28T09:14:23Z'); // the doc's example
    expect(utc('2021-09-28T11:14:23Z')).toBe('2021-09-28T11:14:23Z');
    expect(utc('2021-09-28T11:14:23.987-0130')).toBe('2021-09-28T12:44:23Z');
  });
  it('zone-less times are Oslo wall-clock time, on both sides of both DST changes', () => {
    expect(utc('2025-03-30T01:30:00')).toBe('2025-03-30T00:30:00Z'); // CET
    expect(utc('2025-03-30T03:30:00')).toBe('2025-03-30T01:30:00Z'); // CEST
    expect(utc('2025-10-26 01:30:00')).toBe('2025-10-25T23:30:00Z'); // CEST
    expect(utc('2025-10-26 03:30:00')).toBe('2025-10-26T02:30:00Z'); // CET
    expect(utc('2025-07-01')).toBe('2025-06-30T22:00:00Z');
  });
  it('refuses what is not a time', () => {
    for (const bad of ['', 'yesterday', '2025-02-30T10:00:00Z', '2025-01-01T24:00:00Z', '28.09.2021']) expect(parseFalkorTimestamp(bad)).toBeNull();
  });
  it('calendar day in Oslo', () => {
    expect(calendarDate(Date.parse('2025-12-31T23:30:00Z'))).toBe('2026-01-01');
    expect(calendarDate(Date.parse('2025-06-30T21:59:59Z'))).toBe('2025-06-30');
  });
});

describe('Falkor payload schema', () => {
  it('accepts story types in any case, refuses types the doc does not list', () => {
    const block = (type: string): unknown => ({ status: 'success', hash: 'h', data: [{ story: { ID: 'A', name: 'n', type }, certificates: [] }] });
    for (const t of ['Story', 'story', 'SCORM', 'Assessment', 'survey']) expect(storyCertificatesResponseSchema.safeParse(block(t)).success).toBe(true);
    expect(storyCertificatesResponseSchema.safeParse(block('Video')).success).toBe(false);
  });
  it('refuses a certificate without its permalink or with an undocumented state', () => {
    const one = (certificate: unknown): unknown => ({ status: 'success', data: [{ story: { ID: 'A', name: 'n', type: 'Story' }, certificates: [{ certificate }] }] });
    expect(storyCertificatesResponseSchema.safeParse(one({ timestamp: 't', state: 'delivered' })).success).toBe(false);
    expect(storyCertificatesResponseSchema.safeParse(one({ timestamp: 't', state: 'revoked', url: 'u' })).success).toBe(false);
    expect(storyCertificatesResponseSchema.safeParse(one({ timestamp: 't', state: 'pending', url: 'u' })).success).toBe(true);
  });
});
