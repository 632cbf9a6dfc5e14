import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isValidNorwegianNationalId } from '../../domain/identity.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { createTestHub, type TestHub } from '../app.testkit.ts';

const NOW = new Date('2025-06-01T10:00:00Z');

/** A national id with valid check digits (born 01.01.90). */
function validNin(): string {
  for (let i = 10000; i < 99999; i++) {
    const nin = `010190${i}`;
    if (isValidNorwegianNationalId(nin)) return nin;
  }
  throw new Error('no valid nin');
}

const course = (code: string, extra: Record<string, unknown> = {}) => ({
  achievement: { type: 'course' as const, external_id: `id-${code}`, title: `Course ${code}`, code },
  ...extra,
});

interface Answer {
  found: boolean;
  ambiguous: boolean;
  person_id: string | null;
  person_ids: string[];
  achievements: { achievement: Record<string, unknown>; standing: string; valid_until: string | null; certificate: { id: string; external_id: string } | null }[];
  requirement?: { state: string; standing: string; certificate: { external_id: string } | null } | null;
  live?: { source: string; ok: boolean; error?: { code: string; message: string } }[];
}

describe('status checks over HTTP', () => {
  let hub: TestHub;
  const nin = validNin();

  beforeEach(async () => {
    hub = await createTestHub({ now: () => NOW });
    // Kari (person 1): one certificate in each standing, national id known.
    await hub.seed(hub.a.source, [
      sampleCertificate(1, { external_id: 'valid', subject: { ...sampleCertificate(1).subject, national_id: nin }, ...course('A-VALID', { valid_until: '2027-01-01' }) }),
      sampleCertificate(1, { external_id: 'expiring', ...course('A-EXPIRING', { valid_until: '2025-06-20' }) }),
      sampleCertificate(1, { external_id: 'expired', ...course('A-EXPIRED', { valid_until: '2025-01-01' }) }),
      sampleCertificate(1, { external_id: 'revoked', ...course('A-REVOKED', { status: 'revoked' }) }),
      sampleCertificate(1, { external_id: 'gone', ...course('A-GONE', { status: 'deleted' }) }),
      // A second expired certificate for the same course, ending later: that one is reported.
      sampleCertificate(1, { external_id: 'expired-2', ...course('A-EXPIRED', { valid_until: '2025-03-01' }) }),
    ]);
    // Two different people (different emails) sharing a name and a birthday.
    await hub.seed(hub.a.source, [
      sampleCertificate(2, { subject: { ...sampleCertificate(2).subject, last_name: 'Hansen' } }),
      sampleCertificate(3, { subject: { ...sampleCertificate(3).subject, last_name: 'Hansen' } }),
    ]);
    // Tenant b: its own person 9.
    await hub.seed(hub.b.source, [sampleCertificate(9)]);
  });
  afterEach(() => hub.close());

  const check = async (body: unknown, key = hub.a.readKey, url = '/v1/status') => {
    const res = await hub.call('POST', url, { key, body });
    return { status: res.statusCode, json: res.json<Answer & { results: (Answer & { index: number; error?: { code: string; message: string } })[]; error: { code: string; message: string } }>(), text: res.body };
  };

  it('finds a person by each identification and answers every achievement they hold', async () => {
    const byEmail = await check({ person: { email: ' PERSON1@example.com ' } });
    expect(byEmail.status).toBe(200);
    expect(byEmail.json.found).toBe(true);
    const kari = byEmail.json.person_id!;
    expect(kari).toEqual(expect.any(String));
    // Grouped by source, type and external id; the only-deleted one left out.
    const standings = Object.fromEntries(byEmail.json.achievements.map((a) => [a.achievement.code, a.standing]));
    expect(standings).toEqual({ 'A-VALID': 'valid', 'A-EXPIRING': 'expiring', 'A-EXPIRED': 'expired', 'A-REVOKED': 'revoked' });
    const expired = byEmail.json.achievements.find((a) => a.achievement.code === 'A-EXPIRED')!;
    expect(expired.certificate?.external_id).toBe('expired-2');
    expect(expired.valid_until).toBe('2025-03-01');
    expect(expired.achievement).toMatchObject({ provider: 'frontcore', source: 'frontcore-main', type: 'course', external_id: 'id-A-EXPIRED' });

    const byNin = await check({ person: { national_id: `${nin.slice(0, 6)} ${nin.slice(6)}` } });
    expect(byNin.json.person_id).toBe(kari);
    expect(byNin.text).not.toContain(nin);
    expect(byNin.text).not.toContain(nin.slice(6));

    const byName = await check({ person: { date_of_birth: '1990-01-15', name: '  KARI   nordmann 1 ' } });
    expect(byName.json).toMatchObject({ found: true, ambiguous: false, person_id: kari, person_ids: [kari] });

    const byUser = await check({ person: { provider_user: { source: 'frontcore-main', user_id: 'u-1' } } });
    expect(byUser.json.person_id).toBe(kari);

    const nobody = await check({ person: { email: 'nobody@example.com' } });
    expect(nobody.json).toMatchObject({ found: false, ambiguous: false, person_id: null, person_ids: [], achievements: [] });
  });

  it('restricted to achievements: missing when nothing matches; pending and not yet started do not count', async () => {
    await hub.seed(hub.a.source, [
      sampleCertificate(1, { external_id: 'pending', ...course('A-PENDING', { status: 'pending' }) }),
      sampleCertificate(1, { external_id: 'future', ...course('A-FUTURE', { valid_from: '2025-09-01' }) }),
    ]);
    const res = await check({
      person: { email: 'person1@example.com' },
      achievements: [{ code: 'a-valid' }, { code: 'A-NOPE' }, { code: 'A-PENDING' }, { code: 'A-FUTURE' }, { provider: 'springest', code: 'A-VALID' }, { external_id: 'id-A-EXPIRING', type: 'course' }],
    });
    expect(res.status).toBe(200);
    expect(res.json.achievements.map((a) => [a.achievement.code ?? a.achievement.external_id, a.standing, a.certificate?.external_id ?? null])).toEqual([
      ['a-valid', 'valid', 'valid'],
      ['A-NOPE', 'missing', null],
      ['A-PENDING', 'missing', null],
      ['A-FUTURE', 'missing', null],
      ['A-VALID', 'missing', null],
      ['id-A-EXPIRING', 'expiring', 'expiring'],
    ]);
    // A wider warning window makes the valid one expiring too (it ends 2027-01-01).
    const wide = await check({ person: { email: 'person1@example.com' }, achievements: [{ code: 'A-VALID' }], warn_days: 800 });
    expect(wide.json.achievements[0]?.standing).toBe('expiring');
  });

  it('against a requirement (by id or name): its state, and the standing per achievement it accepts', async () => {
    const req = await hub.store.requirements.createRequirement(hub.a.id, {
      name: 'Safety',
      rule: { any_of: [{ code: 'A-EXPIRED' }, { code: 'A-EXPIRING' }], valid_months_without_end: null, warn_days: 30 },
    });
    const byId = await check({ person: { email: 'person1@example.com' }, requirement: req.id });
    expect(byId.json.requirement).toMatchObject({ id: req.id, name: 'Safety', state: 'expiring', standing: 'expiring', certificate: { external_id: 'expiring' } });
    expect(byId.json.achievements.map((a) => a.standing)).toEqual(['expired', 'expiring']);
    const byName = await check({ person: { email: 'person1@example.com' }, requirement: 'Safety' });
    expect(byName.json.requirement?.state).toBe('expiring');

    // Certificates without an end date count valid_months_without_end from their start (2024-02-15 + 12 months).
    await hub.store.requirements.createRequirement(hub.a.id, {
      name: 'Yearly',
      rule: { any_of: [{ code: 'SAFE-101' }], valid_months_without_end: 12, warn_days: 30 },
    });
    const yearly = await check({ person: { email: 'person2@example.com' }, requirement: 'Yearly' });
    expect(yearly.json.requirement).toMatchObject({ state: 'expired', standing: 'expired' });
    expect(yearly.json.achievements[0]?.valid_until).toBe('2025-02-14');

    const someoneElse = await check({ person: { email: 'nobody@example.com' }, requirement: 'Safety' });
    expect(someoneElse.json).toMatchObject({ found: false, requirement: null });

    const unknown = await check({ person: { email: 'person1@example.com' }, requirement: 'Nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('not_found');
    const theirs = await hub.store.requirements.createRequirement(hub.b.id, { name: 'Theirs', rule: { any_of: [{ code: 'X' }], valid_months_without_end: null, warn_days: 30 } });
    expect((await check({ person: { email: 'person1@example.com' }, requirement: theirs.id })).status).toBe(404);
    expect((await check({ people: [{ email: 'person1@example.com' }], requirement: theirs.id }, hub.a.readKey, '/v1/status/bulk')).status).toBe(404);

    const both = await check({ person: { email: 'person1@example.com' }, requirement: 'Safety', achievements: [{ code: 'X' }] });
    expect(both.status).toBe(400);
    expect(both.json.error.message).toMatch(/^body\.requirement: give achievements or requirement, not both/);
  });

  it('as_of answers from the versions recorded by then, evaluated at that instant', async () => {
    const t1 = new Date('2024-03-01T00:00:00Z');
    const t2 = new Date('2025-05-01T00:00:00Z');
    await hub.seed(hub.a.source, [sampleCertificate(5, { external_id: 'h', ...course('HIST', { valid_until: '2024-12-31' }) })], { now: t1 });
    await hub.seed(hub.a.source, [sampleCertificate(5, { external_id: 'h', ...course('HIST', { valid_until: '2024-12-31', status: 'revoked' }) })], { now: t2 });
    const ask = (as_of?: string) => check({ person: { email: 'person5@example.com' }, achievements: [{ code: 'HIST' }], ...(as_of === undefined ? {} : { as_of }) });

    expect((await ask()).json.achievements[0]?.standing).toBe('revoked');
    const before = await ask('2024-06-01T00:00:00Z');
    expect(before.json.achievements[0]).toMatchObject({ standing: 'valid', valid_until: '2024-12-31', certificate: { external_id: 'h', status: 'awarded' } });
    expect((await ask('2024-12-15')).json.achievements[0]?.standing).toBe('expiring');
    expect((await ask('2025-02-01T00:00:00+01:00')).json.achievements[0]?.standing).toBe('expired');
    // Before it was first seen: the person is known (links are not versioned) but holds nothing yet.
    expect((await ask('2024-01-01T00:00:00Z')).json.achievements[0]).toMatchObject({ standing: 'missing', certificate: null });
    expect((await ask('yesterday')).status).toBe(400);
  });

  it('several people with one name and birthday: ambiguous, answered for none', async () => {
    const res = await check({ person: { date_of_birth: '1990-01-15', name: 'Kari Hansen' } });
    expect(res.json).toMatchObject({ found: true, ambiguous: true, person_id: null, achievements: [] });
    expect(res.json.person_ids).toHaveLength(2);
  });

  it('keeps tenants apart: another tenant\'s people are not found, by any identification', async () => {
    expect((await check({ person: { email: 'person9@example.com' } })).json.found).toBe(false);
    expect((await check({ person: { provider_user: { source: 'frontcore-main', user_id: 'u-9' } } })).json.found).toBe(false);
    expect((await check({ person: { email: 'person9@example.com' } }, hub.b.readKey)).json.found).toBe(true);
    expect((await check({ person: { email: 'person1@example.com' } }, hub.b.readKey)).json.found).toBe(false);
  });

  it('refuses a bad single query with 400 naming the field, and needs a key', async () => {
    const two = await check({ person: { email: 'person1@example.com', national_id: nin } });
    expect(two.status).toBe(400);
    expect(two.json.error.message).toMatch(/^body\.person: give exactly one of/);
    expect(two.text).not.toContain(nin);
    const half = await check({ person: { date_of_birth: '1990-01-15' } });
    expect(half.json.error.message).toMatch(/body\.person\.name: date_of_birth and name go together/);
    const badEmail = await check({ person: { email: 'not-an-email' } });
    expect(badEmail.json.error.message).toMatch(/^body\.person\.email: must be an email address/);
    const source = await check({ person: { provider_user: { source: 'nope', user_id: '1' } } });
    expect(source.status).toBe(400);
    expect(source.json.error.message).toBe('body.person.provider_user.source: unknown source "nope"');
    expect((await hub.call('POST', '/v1/status', { body: { person: { email: 'person1@example.com' } } })).statusCode).toBe(401);
  });

  it('bulk: answers in input order with their index; a bad entry is reported by its index, the rest answered', async () => {
    const res = await check(
      {
        people: [
          { email: 'person1@example.com' },
          { email: 'not-an-email' },
          { national_id: nin },
          {},
          { provider_user: { source: 'nope', user_id: 'x' } },
          'just a string',
          { email: 'nobody@example.com' },
          { date_of_birth: '1990-01-15', name: 'Kari Hansen' },
        ],
        achievements: [{ code: 'A-VALID' }],
      },
      hub.a.readKey,
      '/v1/status/bulk',
    );
    expect(res.status).toBe(200);
    const r = res.json.results;
    expect(r.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(r[0]).toMatchObject({ found: true, achievements: [{ standing: 'valid' }] });
    expect(r[1]?.error).toEqual({ code: 'invalid_request', message: expect.stringMatching(/^people\[1\]\.email: must be an email address/) as string });
    expect(r[2]).toMatchObject({ found: true, person_id: r[0]?.person_id });
    expect(r[3]?.error?.message).toMatch(/^people\[3\]: give exactly one of/);
    expect(r[4]?.error?.message).toBe('people[4].provider_user.source: unknown source "nope"');
    expect(r[5]?.error?.message).toMatch(/^people\[5\]: /);
    expect(r[6]).toMatchObject({ found: false, achievements: [] });
    expect(r[7]).toMatchObject({ found: true, ambiguous: true });
    expect(res.text).not.toContain(nin);
  });

  it('bulk: 10,000 people fit in one request; 10,001 or none is a 400', async () => {
    const people = Array.from({ length: 10_000 }, (_, i) => ({ date_of_birth: '1990-01-15', name: `Someone With A Rather Long Name Number ${i}` }));
    people[4321] = { date_of_birth: '1990-01-15', name: 'Kari Nordmann 1' };
    const ok = await check({ people, achievements: [{ code: 'A-VALID' }, { code: 'A-EXPIRED' }] }, hub.a.readKey, '/v1/status/bulk');
    expect(ok.status).toBe(200);
    expect(ok.json.results).toHaveLength(10_000);
    expect(ok.json.results.filter((x) => x.found).map((x) => x.index)).toEqual([4321]);
    expect(ok.json.results[4321]?.achievements.map((a) => a.standing)).toEqual(['valid', 'expired']);

    const tooMany = await check({ people: [...people, { email: 'a@example.com' }] }, hub.a.readKey, '/v1/status/bulk');
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.message).toMatch(/^body\.people: /);
    expect((await check({ people: [] }, hub.a.readKey, '/v1/status/bulk')).status).toBe(400);
  });

  it('?live=true without a provider connector says so per source, and the stored answer still comes', async () => {
    const res = await check({ person: { email: 'person1@example.com' }, achievements: [{ code: 'A-VALID' }] }, hub.a.readKey, '/v1/status?live=true');
    expect(res.status).toBe(200);
    expect(res.json.achievements[0]?.standing).toBe('valid');
    expect(res.json.live).toEqual([{ source: 'frontcore-main', provider: 'frontcore', ok: false, error: { code: 'provider_unavailable', message: expect.stringMatching(/no provider connector/) as string } }]);
    const plain = await check({ person: { email: 'person1@example.com' } });
    expect(plain.json.live).toBeUndefined();
  });
});
