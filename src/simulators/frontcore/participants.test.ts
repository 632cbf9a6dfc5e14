/**
 * FrontCore `GET /v2/participants` and the certificate status checks, each test named after the
 * sentence of frontcore-notes.md it checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseZoneless } from '../common/time.ts';
import { allParticipants, startFrontcore, type Harness, type ParticipantJson } from './frontcore.testkit.ts';

const oslo = (text: string): number => parseZoneless(text, 'Europe/Oslo')?.getTime() ?? Number.NaN;

describe('FrontCore /v2/participants (frontcore-notes.md)', () => {
  let h: Harness;
  let all: ParticipantJson[];
  beforeAll(async () => {
    h = await startFrontcore();
    all = await allParticipants(h);
  });
  afterAll(() => h.close());

  it('"The response is a bare JSON array of participant objects" -> an array sorted by id, with the fields seen', async () => {
    const r = await h.json<unknown>('/v2/participants');
    expect(Array.isArray(r)).toBe(true);
    expect(all.length).toBe(h.fc.data.participants.length);
    const ids = all.map((p) => p.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const first = all[0] as unknown as Record<string, unknown>;
    for (const k of ['certificate_issued_at', 'completed', 'archived_at', 'course', 'user', 'created_at', 'updated_at', 'booker_firstname', 'booker_lastname', 'booker_email']) expect(first).toHaveProperty(k);
    expect(Object.keys(first.course as object)).toEqual(expect.arrayContaining(['id', 'title', 'reference']));
  });

  it('"certificate_issued_at (null until a certificate is issued)", "completed (boolean)": some participants never complete and have no certificate', () => {
    const never = all.filter((p) => !p.completed && p.certificate_issued_at === null);
    const issued = all.filter((p) => p.certificate_issued_at !== null);
    expect(never.length).toBeGreaterThan(10);
    expect(issued.length).toBe(h.fc.data.diplomas.length);
    for (const p of all) expect(typeof p.completed).toBe('boolean');
    expect(all.some((p) => p.archived_at !== null)).toBe(true);
  });

  it('"limit (default 75, max 250)" -> 75 rows by default, 250 allowed, 251 -> 400 {"error"}', async () => {
    expect(await h.json<unknown[]>('/v2/participants')).toHaveLength(75);
    expect(await h.json<unknown[]>('/v2/participants?limit=250')).toHaveLength(250);
    for (const bad of ['251', '0', '-1', 'x']) {
      const r = await h.get(`/v2/participants?limit=${bad}`);
      expect(r.status).toBe(400);
      expect(Object.keys((await r.json()) as object)).toEqual(['error']);
    }
  });

  it('"page (default 1)" -> page 1 is the default, pages follow each other without gaps, past the end is []', async () => {
    expect(await h.json('/v2/participants?limit=10')).toEqual(await h.json('/v2/participants?limit=10&page=1'));
    const p2 = await h.json<ParticipantJson[]>('/v2/participants?limit=10&page=2');
    expect(p2.map((p) => p.id)).toEqual(all.slice(10, 20).map((p) => p.id));
    // Out of order, too (no reliance on the resume cache).
    const p5 = await h.json<ParticipantJson[]>('/v2/participants?limit=10&page=5');
    expect(p5.map((p) => p.id)).toEqual(all.slice(40, 50).map((p) => p.id));
    expect(await h.json('/v2/participants?limit=250&page=999')).toEqual([]);
    expect((await h.get('/v2/participants?page=0')).status).toBe(400);
  });

  it('"since_id (only items after that id)"', async () => {
    const pivot = all[100]?.id ?? 0;
    const after = await h.json<ParticipantJson[]>(`/v2/participants?since_id=${pivot}&limit=5`);
    expect(after.map((p) => p.id)).toEqual(all.slice(101, 106).map((p) => p.id));
    const page2 = await h.json<ParticipantJson[]>(`/v2/participants?since_id=${pivot}&limit=5&page=2`);
    expect(page2.map((p) => p.id)).toEqual(all.slice(106, 111).map((p) => p.id));
  });

  it('"course_id, coursedate_id, customer_id, user_id (numbers)" filter; a non-number -> 400', async () => {
    const sample = all.find((p) => p.customer_id !== null);
    if (!sample) throw new Error('no participant with a customer');
    const cases: [string, (p: ParticipantJson) => boolean][] = [
      [`course_id=${sample.course_id}`, (p) => p.course_id === sample.course_id],
      [`coursedate_id=${sample.coursedate_id}`, (p) => p.coursedate_id === sample.coursedate_id],
      [`customer_id=${sample.customer_id}`, (p) => p.customer_id === sample.customer_id],
      [`user_id=${sample.user_id}`, (p) => p.user_id === sample.user_id],
    ];
    for (const [q, keep] of cases) {
      const got = await allParticipants(h, `&${q}`);
      expect(got.map((p) => p.id), q).toEqual(all.filter(keep).map((p) => p.id));
      expect(got.length).toBeGreaterThan(0);
    }
    expect(await h.json('/v2/participants?course_id=1')).toEqual([]);
    for (const q of ['course_id=abc', 'user_id=1.5', 'since_id=x', 'customer_id=-3']) expect((await h.get(`/v2/participants?${q}`)).status, q).toBe(400);
  });

  it('"created_at_min / created_at_max / updated_at_min / updated_at_max (format yyyy-mm-dd or yyyy-mm-dd hh:mm:ss)" -> inclusive Oslo wall-clock bounds; malformed -> 400', async () => {
    const sorted = [...all].sort((a, b) => oslo(a.updated_at) - oslo(b.updated_at));
    const mid = sorted[Math.floor(sorted.length / 2)] as ParticipantJson;
    const got = await allParticipants(h, `&updated_at_min=${encodeURIComponent(mid.updated_at)}`);
    expect(got.map((p) => p.id)).toEqual(all.filter((p) => oslo(p.updated_at) >= oslo(mid.updated_at)).map((p) => p.id));
    expect(got.some((p) => p.id === mid.id)).toBe(true);
    const day = mid.created_at.slice(0, 10);
    const created = await allParticipants(h, `&created_at_min=2020-01-01&created_at_max=${day}`);
    // A bare date is that day at 00:00:00 Oslo time.
    expect(created.map((p) => p.id)).toEqual(all.filter((p) => oslo(p.created_at) >= oslo('2020-01-01 00:00:00') && oslo(p.created_at) <= oslo(`${day} 00:00:00`)).map((p) => p.id));
    const upd = await allParticipants(h, `&updated_at_max=${encodeURIComponent(mid.updated_at)}`);
    expect(upd.length + got.length).toBe(all.length + all.filter((p) => p.updated_at === mid.updated_at).length);
    for (const bad of ['2024-13-01', '2024-02-15T10:00:00', '15.02.2024', '2024-02-15 25:00:00', '2024-02-15 10:00']) {
      const r = await h.get(`/v2/participants?updated_at_min=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(Object.keys((await r.json()) as object)).toEqual(['error']);
    }
  });

  it('"include[] (supported: attendance)" -> attendance per course day only when asked', async () => {
    const plain = await h.json<ParticipantJson[]>('/v2/participants?limit=20');
    expect(plain.every((p) => p.attendance === undefined)).toBe(true);
    const withIt = await h.json<ParticipantJson[]>(`/v2/participants?limit=20&${encodeURIComponent('include[]')}=attendance`);
    for (const p of withIt) {
      expect(p.attendance?.length).toBeGreaterThan(0);
      expect(p.attendance?.[0]?.date).toBe(p.coursedate.start_at.slice(0, 10));
      if (p.completed) expect(p.attendance?.every((a) => a.attended === true)).toBe(true);
    }
    expect(await h.json(`/v2/participants?limit=20&${encodeURIComponent('include[]')}=nonsense`)).toEqual(plain);
  });
});

describe('FrontCore certificate status checks (frontcore-notes.md, assumed paths)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startFrontcore();
  });
  afterAll(() => h.close());

  type Status = { success: string; valid: boolean; items: { id: number; user_id: number; course: { id: number } }[] };
  const live = (h: Harness) => h.fc.truth().filter((t) => t.status === 'awarded');

  it('"Check if person, using National identification number, have a valid certificate" -> valid with the diplomas of that course', async () => {
    const withNin = h.fc.data.holders.findIndex((x) => x.nationalId !== null && live(h).some((t) => t.person_key === x.key));
    const holder = h.fc.data.holders[withNin];
    if (!holder?.nationalId) throw new Error('no holder with a NIN');
    const cert = live(h).find((t) => t.person_key === holder.key);
    if (!cert) throw new Error('no certificate');
    const r = await h.json<Status>(`/v2/certificates/status?national_identification_number=${holder.nationalId}&course_id=${cert.achievement.external_id}`);
    expect(r.success).toBe('ok');
    expect(r.valid).toBe(true);
    expect(r.items.map((i) => String(i.id))).toContain(cert.external_id);
    expect(r.items.every((i) => String(i.course.id) === cert.achievement.external_id)).toBe(true);
    const none = await h.json<Status>(`/v2/certificates/status?national_identification_number=01019000000&course_id=${cert.achievement.external_id}`);
    expect(none).toEqual({ success: 'ok', valid: false, items: [] });
  });

  it('"Check if person, using date of birth and name, have a valid certificate" -> names match case-insensitively, and both accounts of a person count', async () => {
    const second = h.fc.data.holders.find((x) => x.secondEmail !== null);
    if (!second) throw new Error('no second account in this world');
    const certs = live(h).filter((t) => t.person_key === second.key);
    const accounts = new Set(certs.map((t) => t.subject.provider_user_id));
    expect(accounts.size).toBe(2);
    const cert = certs[0];
    if (!cert) throw new Error('no certificate');
    const q = `date_of_birth=${second.dateOfBirth}&firstname=${encodeURIComponent(second.firstName.toUpperCase())}&lastname=${encodeURIComponent(second.lastName.toLowerCase())}&course_id=${cert.achievement.external_id}`;
    const r = await h.json<Status>(`/v2/certificates/status?${q}`);
    expect(r.valid).toBe(true);
    const expected = certs.filter((t) => t.achievement.external_id === cert.achievement.external_id).map((t) => Number(t.external_id)).sort((a, b) => a - b);
    expect(r.items.map((i) => i.id)).toEqual(expected);
  });

  it('"Check if person, using user id, have a valid certificate" -> a deleted diploma does not count', async () => {
    const deleted = h.fc.truth().find((t) => t.status === 'deleted' && !live(h).some((l) => l.subject.provider_user_id === t.subject.provider_user_id && l.achievement.external_id === t.achievement.external_id));
    if (!deleted) throw new Error('no deleted diploma');
    const r = await h.json<Status>(`/v2/certificates/status?user_id=${deleted.subject.provider_user_id}&course_id=${deleted.achievement.external_id}`);
    expect(r).toEqual({ success: 'ok', valid: false, items: [] });
    const ok = live(h)[0];
    if (!ok) throw new Error('no live certificate');
    const v = await h.json<Status>(`/v2/certificates/status?user_id=${ok.subject.provider_user_id}&course_id=${ok.achievement.external_id}`);
    expect(v.valid).toBe(true);
  });

  it('missing identification or course_id -> 400 {"error"}', async () => {
    for (const q of ['course_id=44724', 'user_id=100001', 'national_identification_number=01019012345', 'date_of_birth=1990-01-15&firstname=Kari&course_id=44724', 'date_of_birth=15.01.1990&firstname=Kari&lastname=Berg&course_id=44724', 'user_id=x&course_id=1']) {
      const r = await h.get(`/v2/certificates/status?${q}`);
      expect(r.status, q).toBe(400);
      expect(Object.keys((await r.json()) as object)).toEqual(['error']);
    }
  });
});
