import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { providerSourceSchema } from '../../config/schema.ts';
import { frontcoreProvider } from './index.ts';
import { pageCourses, toCertificate, withoutDownloadToken, zonelessToUtc } from './normalize.ts';
import { diplomasResponseSchema, frontcoreConfigSchema, participantsResponseSchema, statusResponseSchema, type Diploma } from './schema.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const OSLO = { timeZone: 'Europe/Oslo' };

/** Every recorded `GET /v2/diplomas?user_id=` answer (one per user), through the schema. */
const recorded = (): Diploma[] => (fixture('diplomas.json') as unknown[]).flatMap((r) => diplomasResponseSchema.parse(r).items);
const byId = (id: number): Diploma => {
  const d = recorded().find((x) => x.id === id);
  if (!d) throw new Error(`diploma ${id} is not in the fixture`);
  return d;
};
/** What the simulator's truth holds: everything but raw and the national id. */
const view = ({ raw: _raw, subject: { national_id: _nin, ...subject }, ...rest }: NormalizedCertificate): unknown => ({ ...rest, subject });

describe('FrontCore normalize (recorded payloads)', () => {
  it('maps every recorded diploma field for field to what the simulator says it is', () => {
    const normalized = recorded()
      .map((d) => toCertificate(d, OSLO))
      .sort((a, b) => (a.external_id < b.external_id ? -1 : 1))
      .map(view);
    expect(normalized).toEqual(fixture('diplomas.truth.json'));
    expect(normalized.length).toBeGreaterThan(10);
  });

  it('a deleted diploma (deleted_at) is deleted and has no file; an old one has no serial', () => {
    const deleted = toCertificate(byId(12056), OSLO);
    expect(deleted).toMatchObject({ status: 'deleted', file: { available: false }, serial: '2021-FIRST-AID-002' });
    expect(toCertificate(byId(12004), OSLO)).toMatchObject({ status: 'awarded', serial: null, file: { available: true } });
  });

  it('keeps names and emails as FrontCore spells them: Norwegian letters, letter case, a stray space', () => {
    const c = toCertificate(byId(12258), OSLO);
    expect(c.subject).toEqual({
      provider_user_id: '100243',
      email: ' Ase.Odegard@Fjordkraft-demo.no',
      first_name: 'Åse Marit',
      last_name: 'Ødegård-Bø',
      date_of_birth: '1990-01-15',
      national_id: null,
    });
    expect(c.serial).toBe('ÆØÅ-2026-001');
  });

  it('reads zone-less times in the source zone: summer, winter, the repeated autumn hour, the skipped spring hour', () => {
    expect(toCertificate(byId(12258), OSLO).issued_at).toBe('2026-06-02T10:00:00Z'); // CEST, +02:00
    expect(toCertificate(byId(12149), OSLO).issued_at).toBe('2024-01-17T23:42:58Z'); // CET, +01:00, the day before in UTC
    // 02:30 happened twice that night; like the simulator's truth, the text is read as the second (CET) one.
    expect(toCertificate(byId(12008), OSLO).issued_at).toBe('2025-10-26T01:30:00Z');
    // Issued at 02:30 on the night 02:00-03:00 did not exist: FrontCore printed 03:30 (CEST).
    expect(byId(12011).created_at).toBe('2025-03-30 03:30:00');
    expect(toCertificate(byId(12011), OSLO).issued_at).toBe('2025-03-30T01:30:00Z');
    // valid_from is the local calendar day the course ended, not the UTC one.
    expect(toCertificate(byId(12149), OSLO).valid_from).toBe('2024-01-17');
    // Another source zone reads the same text differently.
    expect(toCertificate(byId(12258), { timeZone: 'America/New_York' }).issued_at).toBe('2026-06-02T16:00:00Z');
    expect(zonelessToUtc('2024-07-01', 'Europe/Oslo')).toBe('2024-06-30T22:00:00Z');
    expect(zonelessToUtc('not a date', 'Europe/Oslo')).toBeNull();
    expect(zonelessToUtc(null, 'Europe/Oslo')).toBeNull();
  });

  it('reads a time that carries its own offset as that instant, in any source zone (seen on FrontCore coursedates)', () => {
    expect(zonelessToUtc('2025-11-04T12:58:01+01:00', 'Europe/Oslo')).toBe('2025-11-04T11:58:01Z');
    expect(zonelessToUtc('2025-11-04T12:58:01+01:00', 'America/Los_Angeles')).toBe('2025-11-04T11:58:01Z');
    expect(zonelessToUtc('2025-07-04T12:58:01.250Z', 'Europe/Oslo')).toBe('2025-07-04T12:58:01Z');
    expect(zonelessToUtc('2025-07-04T12:58:01-0230', 'Europe/Oslo')).toBe('2025-07-04T15:28:01Z');
    // An offset on a date alone is no datetime.
    expect(zonelessToUtc('2025-07-04+01:00', 'Europe/Oslo')).toBeNull();
    const d = recorded()[0]!;
    const page = diplomasResponseSchema.parse({ success: 'ok', items: [{ ...d, created_at: '2025-11-04T12:58:01+01:00' }] });
    expect(toCertificate(page.items[0]!, OSLO).issued_at).toBe('2025-11-04T11:58:01Z');
  });

  it('keeps the national id number in memory only for matching, and raw = the item minus the download token', () => {
    const d = recorded().find((x) => x.user.national_identification_number);
    if (!d) throw new Error('no diploma with a national id in the fixture');
    const c = toCertificate(d, OSLO);
    expect(c.subject.national_id).toBe(d.user.national_identification_number);
    expect(d.links?.download).toMatch(/token=/);
    const raw = c.raw as Diploma;
    expect(raw.links?.download).not.toMatch(/token=/);
    expect(raw.links?.download).toBe(String(d.links?.download).split('?')[0]);
    expect({ ...raw, links: d.links }).toEqual(d);
    // A fresh token on the next request does not make the diploma look changed.
    const again = toCertificate({ ...d, links: { ...d.links, download: `${String(d.links?.download).split('?')[0]}?token=another` } }, OSLO);
    expect(again.raw).toEqual(c.raw);
    expect(withoutDownloadToken({ ...d, links: null })).toEqual({ ...d, links: null });
  });

  it('tolerates fields a real account may leave out, and says where a payload breaks the schema', () => {
    const d = byId(12004);
    const { coursedate: _cd, serial: _s, links: _l, passed_note: _p, ...lean } = d;
    const c = toCertificate(diplomasResponseSchema.parse({ success: 'ok', items: [{ ...lean, extra_field: 1 }] }).items[0] as Diploma, OSLO);
    expect(c).toMatchObject({ valid_from: null, serial: null, status: 'awarded' });
    expect((c.raw as Record<string, unknown>).extra_field).toBe(1);
    const bad = diplomasResponseSchema.safeParse({ success: 'ok', items: [{ ...d, created_at: '15.02.2024 09:00' }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['items', 0, 'created_at']);
  });

  it('collects each course seen on a page once, from participants and diplomas', () => {
    const participants = participantsResponseSchema.parse(fixture('participants.json'));
    expect(participants.some((p) => p.certificate_issued_at === null)).toBe(true);
    const courses = pageCourses(recorded(), participants);
    expect(new Set(courses.map((c) => c.external_id)).size).toBe(courses.length);
    expect(courses.every((c) => c.type === 'course' && c.title !== null && c.code !== null)).toBe(true);
  });

  it('reads recorded certificate-status answers (assumed shape)', () => {
    const { valid, invalid } = fixture('status.json') as { valid: unknown; invalid: unknown };
    expect(statusResponseSchema.parse(valid)).toMatchObject({ valid: true, items: [{ id: 12258, serial: 'ÆØÅ-2026-001' }] });
    expect(statusResponseSchema.parse(invalid)).toMatchObject({ valid: false, items: [] });
  });

  it('the config is certhub.yaml\'s FrontCore entry: its settings as written, and the resolved entry as it is', () => {
    const entry = { id: 'frontcore-main', provider: 'frontcore', base_url: 'https://api.frontcore.com', api_key: 'fc_x', sync_every: '15m' };
    const resolved = providerSourceSchema(frontcoreProvider).parse(entry);
    expect(frontcoreConfigSchema.parse(entry)).toMatchObject({ id: resolved.id, base_url: resolved.base_url, api_key: resolved.api_key, timezone: resolved.timezone });
    expect(frontcoreConfigSchema.parse(resolved)).toEqual(resolved);
    expect(resolved.timezone).toBe('Europe/Oslo');
    expect(frontcoreConfigSchema.safeParse({ ...entry, timezone: 'Mars/Olympus' }).success).toBe(false);
    expect(frontcoreConfigSchema.safeParse({ ...entry, base_url: 'ftp://x' }).success).toBe(false);
  });
});
