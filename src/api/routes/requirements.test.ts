import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { createTestHub, type TestHub } from '../app.testkit.ts';

// Oslo calendar day 2025-06-15 for everything the hub computes "now".
const NOW = new Date('2025-06-15T10:00:00Z');
const SEEDED = new Date('2025-01-10T08:00:00Z');
const SAFE = { type: 'course', external_id: 'SAFE-101', title: 'Safety Training', code: 'SAFE-101' } as const;
const FIRE = { type: 'course', external_id: 'FIRE-1', title: 'Fire drill', code: 'FIRE-1' } as const;
const SAFETY_RULE = { any_of: [{ code: 'SAFE-101' }], valid_months_without_end: 24, warn_days: 30 };

interface ComplianceItem {
  person_id: string;
  name: string | null;
  email: string | null;
  state: string;
  valid_until: string | null;
  certificate: { id: string; source: string; achievement: { code: string | null }; issued_at: string | null; valid_until: string | null } | null;
}
interface ComplianceBody {
  as_of: string;
  summary: Record<string, number>;
  items: ComplianceItem[];
  next_cursor: string | null;
}

const stateByEmail = (body: ComplianceBody): Record<string, string> =>
  Object.fromEntries(body.items.map((i): [string, string] => [i.email ?? '', i.state]));

function cert(n: number, overrides: Partial<NormalizedCertificate> = {}): NormalizedCertificate {
  return sampleCertificate(n, { achievement: { ...SAFE }, ...overrides });
}

/** Tenant a: one person per state (and a few more); tenant b: people of its own. */
async function seedAcme(hub: TestHub): Promise<void> {
  await hub.seed(
    hub.a.source,
    [
      cert(1, { valid_until: '2026-12-31' }), // compliant
      cert(2, { valid_until: '2025-07-01' }), // expiring (within 30 days)
      cert(3, { valid_until: '2025-01-31' }), // expired
      cert(4, { achievement: { ...FIRE }, valid_until: '2025-06-20' }), // missing: another course
      cert(5, { valid_from: '2024-02-15', valid_until: null }), // no end: 24 months -> 2026-02-14
      cert(6, { status: 'revoked', valid_until: '2030-01-01' }), // missing: revoked
      cert(7, {
        subject: { provider_user_id: 'u-7', email: 'anne@example.com', first_name: 'Anne, "AJ"', last_name: 'Berg', date_of_birth: null },
        achievement: { ...SAFE, title: '=Safety, "advanced"' },
        valid_until: '2027-01-01',
      }),
    ],
    { now: SEEDED },
  );
}

describe('requirements API', () => {
  let hub: TestHub;
  let safetyId: string;

  beforeAll(async () => {
    hub = await createTestHub({ now: () => NOW });
    await seedAcme(hub);
    await hub.seed(hub.b.source, [cert(101, { valid_until: '2026-12-31' }), cert(102)], { now: SEEDED });
    const created = await hub.call('POST', '/v1/requirements', {
      key: hub.a.adminKey,
      body: { name: 'Safety', description: 'Everyone on site', rule: SAFETY_RULE },
    });
    expect(created.statusCode).toBe(201);
    safetyId = created.json<{ id: string }>().id;
  });
  afterAll(() => hub.close());

  const compliance = async (query = '', key = hub.a.readKey) => {
    const res = await hub.call('GET', `/v1/requirements/${safetyId}/compliance${query}`, { key });
    expect(res.statusCode).toBe(200);
    return res.json<ComplianceBody>();
  };

  it('creates, reads, lists, updates and deletes requirements; duplicate names are refused', async () => {
    const create = await hub.call('POST', '/v1/requirements', {
      key: hub.a.adminKey,
      body: { name: 'First aid', rule: { any_of: [{ provider: 'frontcore', external_id: 'FA-1' }] } },
    });
    expect(create.statusCode).toBe(201);
    const firstAid = create.json<{ id: string }>();
    expect(create.json()).toMatchObject({
      name: 'First aid',
      description: null,
      rule: { any_of: [{ provider: 'frontcore', external_id: 'FA-1' }], valid_months_without_end: null, warn_days: 30 },
      created_at: NOW.toISOString(),
    });
    expect(create.json()).not.toHaveProperty('tenant_id');

    const dup = await hub.call('POST', '/v1/requirements', { key: hub.a.adminKey, body: { name: 'First aid', rule: SAFETY_RULE } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('conflict');

    const list = await hub.call('GET', '/v1/requirements', { key: hub.a.readKey });
    expect(list.json().items.map((r: { name: string }) => r.name)).toEqual(['First aid', 'Safety']);
    const one = await hub.call('GET', `/v1/requirements/${firstAid.id}`, { key: hub.a.readKey });
    expect(one.json()).toMatchObject({ id: firstAid.id, name: 'First aid' });

    const patched = await hub.call('PATCH', `/v1/requirements/${firstAid.id}`, {
      key: hub.a.adminKey,
      body: { description: 'Two per floor', rule: { any_of: [{ code: 'FA-2' }], warn_days: 10 } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'First aid',
      description: 'Two per floor',
      rule: { any_of: [{ code: 'FA-2' }], warn_days: 10, valid_months_without_end: null },
    });
    const rename = await hub.call('PATCH', `/v1/requirements/${firstAid.id}`, { key: hub.a.adminKey, body: { name: 'Safety' } });
    expect(rename.statusCode).toBe(409);

    const del = await hub.call('DELETE', `/v1/requirements/${firstAid.id}`, { key: hub.a.adminKey });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await hub.call('GET', `/v1/requirements/${firstAid.id}`, { key: hub.a.readKey })).statusCode).toBe(404);
    expect((await hub.call('DELETE', `/v1/requirements/${firstAid.id}`, { key: hub.a.adminKey })).statusCode).toBe(404);
  });

  it('names the wrong field of a bad body and refuses writes with a read key', async () => {
    const noId = await hub.call('POST', '/v1/requirements', {
      key: hub.a.adminKey,
      body: { name: 'X', rule: { any_of: [{ provider: 'frontcore' }] } },
    });
    expect(noId.statusCode).toBe(400);
    expect(noId.json().error).toEqual({
      code: 'invalid_request',
      message: 'body.rule.any_of.0: give external_id or code (or both)',
    });
    const badProvider = await hub.call('POST', '/v1/requirements', {
      key: hub.a.adminKey,
      body: { name: 'X', rule: { any_of: [{ code: 'A', provider: 'moodle' }] } },
    });
    expect(badProvider.json().error.message).toMatch(/^body\.rule\.any_of\.0\.provider: /);
    const emptyPatch = await hub.call('PATCH', `/v1/requirements/${safetyId}`, { key: hub.a.adminKey, body: {} });
    expect(emptyPatch.statusCode).toBe(400);
    expect(emptyPatch.json().error.message).toBe('body: give at least one of name, description, rule');

    for (const [method, url, body] of [
      ['POST', '/v1/requirements', { name: 'Y', rule: SAFETY_RULE }],
      ['PATCH', `/v1/requirements/${safetyId}`, { name: 'Y' }],
      ['DELETE', `/v1/requirements/${safetyId}`, undefined],
    ] as const) {
      const res = await hub.call(method, url, { key: hub.a.readKey, body });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    expect((await hub.call('GET', `/v1/requirements/${safetyId}`, { key: hub.a.readKey })).json().name).toBe('Safety');
  });

  it('gives every person their state with the proving certificate and a summary, computed for the hub clock', async () => {
    const body = await compliance();
    expect(body.as_of).toBe(NOW.toISOString());
    expect(stateByEmail(body)).toEqual({
      'person1@example.com': 'compliant',
      'person2@example.com': 'expiring',
      'person3@example.com': 'expired',
      'person4@example.com': 'missing',
      'person5@example.com': 'compliant',
      'person6@example.com': 'missing',
      'anne@example.com': 'compliant',
    });
    expect(body.summary).toEqual({ compliant: 3, expiring: 1, expired: 1, missing: 2, total: 7 });

    const five = body.items.find((i) => i.email === 'person5@example.com')!;
    // No end date: start 2024-02-15 + 24 months, the day before.
    expect(five).toMatchObject({ name: 'Kari Nordmann 5', valid_until: '2026-02-14' });
    expect(five.certificate).toMatchObject({ source: 'frontcore-main', achievement: { code: 'SAFE-101' }, valid_until: null });
    const two = body.items.find((i) => i.email === 'person2@example.com')!;
    expect(two.valid_until).toBe('2025-07-01');
    expect(two.certificate).toMatchObject({ issued_at: '2024-02-15T15:30:00.000Z', valid_until: '2025-07-01' });
    // Missing (here: revoked) shows no proof.
    const six = body.items.find((i) => i.email === 'person6@example.com')!;
    expect(six).toMatchObject({ valid_until: null, certificate: null });
  });

  it('filters by state (repeated) and by name or email, and pages with a cursor', async () => {
    const bad = await compliance('?state=expiring&state=expired');
    expect(bad.items.map((i) => i.email).sort()).toEqual(['person2@example.com', 'person3@example.com']);
    expect(bad.summary.total).toBe(7);

    const byEmail = await compliance('?q=ANNE@');
    expect(byEmail.items.map((i) => i.name)).toEqual(['Anne, "AJ" Berg']);
    expect(byEmail.summary).toEqual({ compliant: 1, expiring: 0, expired: 0, missing: 0, total: 1 });
    const byName = await compliance(`?q=${encodeURIComponent('nordmann 3')}`);
    expect(byName.items.map((i) => i.email)).toEqual(['person3@example.com']);
    // LIKE wildcards in q are taken literally.
    expect((await compliance('?q=%25')).items).toEqual([]);

    const all = await compliance();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ComplianceBody = await compliance(`?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      expect(page.summary).toEqual(all.summary);
      seen.push(...page.items.map((i) => i.person_id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(all.items.map((i) => i.person_id));
    expect(new Set(seen).size).toBe(7);

    const wrong = await hub.call('GET', `/v1/requirements/${safetyId}/compliance?cursor=nonsense`, { key: hub.a.readKey });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.message).toMatch(/^query\.cursor: /);
    const limit = await hub.call('GET', `/v1/requirements/${safetyId}/compliance?limit=1001`, { key: hub.a.readKey });
    expect(limit.statusCode).toBe(400);
    const state = await hub.call('GET', `/v1/requirements/${safetyId}/compliance?state=fine`, { key: hub.a.readKey });
    expect(state.json().error.message).toMatch(/^query\.state/);
  });

  it('answers the whole table as CSV, quoted field by field, with a file name', async () => {
    const ways: { url: string; headers: Record<string, string> }[] = [
      { url: '?format=csv', headers: {} },
      { url: '?limit=1', headers: { accept: 'text/csv' } },
    ];
    for (const how of ways) {
      const res = await hub.call('GET', `/v1/requirements/${safetyId}/compliance${how.url}`, {
        key: hub.a.readKey,
        headers: how.headers,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toBe('attachment; filename="compliance-safety-2025-06-15.csv"');
      const lines = res.body.split('\r\n');
      expect(lines[0]).toBe(
        'person_id,name,email,state,valid_until,certificate_id,source,achievement_code,achievement_title,issued_at',
      );
      expect(lines[lines.length - 1]).toBe(''); // the last record ends with CRLF too
      // Not paginated: every person, even with ?limit=1.
      expect(lines.length).toBe(1 + 7 + 1);

      const json = await compliance();
      const anne = json.items.find((i) => i.email === 'anne@example.com')!;
      expect(lines).toContain(
        `${anne.person_id},"Anne, ""AJ"" Berg",anne@example.com,compliant,2027-01-01,${anne.certificate!.id},frontcore-main,SAFE-101,"'=Safety, ""advanced""",2024-02-15T15:30:00.000Z`,
      );
      const six = json.items.find((i) => i.email === 'person6@example.com')!;
      expect(lines).toContain(`${six.person_id},Kari Nordmann 6,person6@example.com,missing,,,,,,`);
    }
    const filtered = await hub.call('GET', `/v1/requirements/${safetyId}/compliance?format=csv&state=missing`, { key: hub.a.readKey });
    expect(filtered.body.split('\r\n').filter((l) => l !== '').length).toBe(1 + 2);
  });

  it('changes the table when the requirement changes', async () => {
    const tighter = await hub.call('PATCH', `/v1/requirements/${safetyId}`, {
      key: hub.a.adminKey,
      body: { rule: { ...SAFETY_RULE, valid_months_without_end: 12, warn_days: 200 } },
    });
    expect(tighter.statusCode).toBe(200);
    const body = await compliance();
    // Person 5's undated certificate now ends 2025-02-14; 200 warning days reach 2026-01-01, short of 2026-12-31.
    expect(stateByEmail(body)).toMatchObject({
      'person1@example.com': 'compliant',
      'person2@example.com': 'expiring',
      'person5@example.com': 'expired',
      'anne@example.com': 'compliant',
    });
    const wider = await hub.call('PATCH', `/v1/requirements/${safetyId}`, {
      key: hub.a.adminKey,
      body: { rule: { ...SAFETY_RULE, any_of: [{ code: 'safe-101' }, { external_id: 'FIRE-1' }] } },
    });
    expect(wider.statusCode).toBe(200);
    // FIRE-1 counts now (it ends 2025-06-20: expiring); codes match whatever their case.
    expect(stateByEmail(await compliance())).toMatchObject({ 'person4@example.com': 'expiring', 'person5@example.com': 'compliant' });
    await hub.call('PATCH', `/v1/requirements/${safetyId}`, { key: hub.a.adminKey, body: { rule: SAFETY_RULE } });
    expect(stateByEmail(await compliance())['person4@example.com']).toBe('missing');
  });

  it('keeps tenants apart: another tenant’s requirement is 404 everywhere, its people never listed', async () => {
    const theirs = await hub.call('POST', '/v1/requirements', { key: hub.b.adminKey, body: { name: 'Safety', rule: SAFETY_RULE } });
    expect(theirs.statusCode).toBe(201);
    const id = theirs.json<{ id: string }>().id;
    for (const [method, url, body] of [
      ['GET', `/v1/requirements/${id}`, undefined],
      ['PATCH', `/v1/requirements/${id}`, { name: 'Mine now' }],
      ['DELETE', `/v1/requirements/${id}`, undefined],
      ['GET', `/v1/requirements/${id}/compliance`, undefined],
      ['GET', `/v1/requirements/${id}/compliance?format=csv`, undefined],
      ['GET', `/v1/reports/expiring?requirement=${id}`, undefined],
      ['GET', `/v1/requirements/no-such-id/compliance`, undefined],
    ] as const) {
      const res = await hub.call(method, url, { key: hub.a.adminKey, body });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    expect((await hub.call('GET', '/v1/requirements', { key: hub.a.readKey })).json().items.map((r: { id: string }) => r.id)).not.toContain(id);

    const ours = await compliance();
    expect(ours.summary.total).toBe(7);
    expect(ours.items.map((i) => i.email)).not.toContain('person101@example.com');
    const csv = await hub.call('GET', `/v1/requirements/${safetyId}/compliance?format=csv`, { key: hub.a.readKey });
    expect(csv.body).not.toContain('person101@example.com');
    const theirView = await hub.call('GET', `/v1/requirements/${id}/compliance`, { key: hub.b.readKey });
    expect(stateByEmail(theirView.json())).toEqual({ 'person101@example.com': 'compliant', 'person102@example.com': 'compliant' });
    for (const url of ['/v1/reports/expiring?days=3650', '/v1/reports/expiring?days=3650&format=csv']) {
      const expiring = await hub.call('GET', url, { key: hub.a.readKey });
      expect(expiring.body).toContain('person2@example.com');
      expect(expiring.body).not.toContain('person101@example.com');
    }
  });

  it('lists certificates ending within N days, soonest first, with their person; by requirement with its fallback', async () => {
    const res = await hub.call('GET', '/v1/reports/expiring', { key: hub.a.readKey });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ from: '2025-06-15', to: '2025-07-15', next_cursor: null });
    // Person 4's FIRE-1 (06-20) before person 2's SAFE-101 (07-01); expired, revoked and undated ones are not listed.
    expect(body.items.map((i: { person: { email: string } }) => i.person.email)).toEqual(['person4@example.com', 'person2@example.com']);
    expect(body.items[0]).toMatchObject({
      valid_until: '2025-06-20',
      days_left: 5,
      person: { name: 'Kari Nordmann 4' },
      certificate: { achievement: { code: 'FIRE-1' }, validity: 'valid', status: 'awarded' },
    });

    const year = await hub.call('GET', `/v1/reports/expiring?days=365&requirement=${safetyId}`, { key: hub.a.readKey });
    // The requirement: only SAFE-101; person 5's undated certificate ends 2026-02-14 by the 24-month fallback.
    expect(year.json().items.map((i: { person: { email: string }; valid_until: string }) => [i.person.email, i.valid_until])).toEqual([
      ['person2@example.com', '2025-07-01'],
      ['person5@example.com', '2026-02-14'],
    ]);
    const noFallback = await hub.call('GET', '/v1/reports/expiring?days=365', { key: hub.a.readKey });
    expect(noFallback.json().items.map((i: { valid_until: string }) => i.valid_until)).toEqual(['2025-06-20', '2025-07-01']);

    const paged = await hub.call('GET', '/v1/reports/expiring?days=365&limit=1', { key: hub.a.readKey });
    expect(paged.json().items).toHaveLength(1);
    const next = await hub.call('GET', `/v1/reports/expiring?days=365&limit=1&cursor=${paged.json().next_cursor}`, { key: hub.a.readKey });
    expect(next.json().items.map((i: { valid_until: string }) => i.valid_until)).toEqual(['2025-07-01']);
    expect(next.json().next_cursor).toBeNull();
    const pagedReq = await hub.call('GET', `/v1/reports/expiring?days=365&limit=1&requirement=${safetyId}`, { key: hub.a.readKey });
    const nextReq = await hub.call('GET', `/v1/reports/expiring?days=365&limit=1&requirement=${safetyId}&cursor=${pagedReq.json().next_cursor}`, {
      key: hub.a.readKey,
    });
    expect(nextReq.json().items.map((i: { valid_until: string }) => i.valid_until)).toEqual(['2026-02-14']);

    expect((await hub.call('GET', '/v1/reports/expiring?source=elsewhere', { key: hub.a.readKey })).json().items).toEqual([]);
    expect((await hub.call('GET', '/v1/reports/expiring?provider=springest', { key: hub.a.readKey })).json().items).toEqual([]);
    expect((await hub.call('GET', '/v1/reports/expiring?source=frontcore-main&provider=frontcore', { key: hub.a.readKey })).json().items).toHaveLength(2);
    const tooMany = await hub.call('GET', '/v1/reports/expiring?days=3651', { key: hub.a.readKey });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.message).toMatch(/^query\.days: /);
    expect((await hub.call('GET', '/v1/reports/expiring?days=0', { key: hub.a.readKey })).statusCode).toBe(400);
  });

  it('answers the expiring report as CSV', async () => {
    const res = await hub.call('GET', '/v1/reports/expiring?days=365', { key: hub.a.readKey, headers: { accept: 'text/csv' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="expiring-2025-06-15-to-2026-06-15.csv"');
    const json = (await hub.call('GET', '/v1/reports/expiring?days=365', { key: hub.a.readKey })).json();
    const [first] = json.items as { person: { id: string }; certificate: { id: string } }[];
    const lines = res.body.split('\r\n');
    expect(lines[0]).toBe(
      'valid_until,days_left,person_id,name,email,certificate_id,source,provider,achievement_type,achievement_external_id,achievement_code,achievement_title,issued_at',
    );
    expect(lines[1]).toBe(
      `2025-06-20,5,${first!.person.id},Kari Nordmann 4,person4@example.com,${first!.certificate.id},frontcore-main,frontcore,course,FIRE-1,FIRE-1,Fire drill,2024-02-15T15:30:00.000Z`,
    );
    expect(lines.slice(2)).toEqual([expect.stringMatching(/^2025-07-01,16,/), '']);
  });
});

describe('requirements API as of an instant', () => {
  it('shows the standing then, from the stored versions, after a certificate changed', async () => {
    const hub = await createTestHub({ now: () => NOW });
    try {
      await hub.seed(hub.a.source, [cert(1, { valid_until: '2026-12-31' })], { now: new Date('2025-01-01T00:00:00Z') });
      // Revoked in March; a person first seen in April did not exist in February.
      await hub.seed(hub.a.source, [cert(1, { status: 'revoked', valid_until: '2026-12-31' })], {
        now: new Date('2025-03-01T00:00:00Z'),
      });
      await hub.seed(hub.a.source, [cert(2, { valid_until: '2025-04-20' })], { now: new Date('2025-04-01T00:00:00Z') });
      const created = await hub.call('POST', '/v1/requirements', { key: hub.a.adminKey, body: { name: 'Safety', rule: SAFETY_RULE } });
      const id = created.json<{ id: string }>().id;

      const now = (await hub.call('GET', `/v1/requirements/${id}/compliance`, { key: hub.a.readKey })).json<ComplianceBody>();
      expect(stateByEmail(now)).toEqual({ 'person1@example.com': 'missing', 'person2@example.com': 'expired' });

      const feb = await hub.call('GET', `/v1/requirements/${id}/compliance?as_of=2025-02-01T00:00:00Z`, { key: hub.a.readKey });
      expect(feb.statusCode).toBe(200);
      expect(feb.json<ComplianceBody>().as_of).toBe('2025-02-01T00:00:00.000Z');
      expect(stateByEmail(feb.json())).toEqual({ 'person1@example.com': 'compliant' });
      expect(feb.json<ComplianceBody>().items[0]!.certificate).toMatchObject({ valid_until: '2026-12-31' });

      // In April person 2's certificate was still good, but within the warning window.
      const april = await hub.call('GET', `/v1/requirements/${id}/compliance?as_of=2025-04-02&format=csv`, { key: hub.a.readKey });
      expect(april.headers['content-disposition']).toBe('attachment; filename="compliance-safety-2025-04-02.csv"');
      expect(april.body).toMatch(/,person1@example.com,missing,,/);
      expect(april.body).toMatch(/,person2@example.com,expiring,2025-04-20,/);
      const bad = await hub.call('GET', `/v1/requirements/${id}/compliance?as_of=yesterday`, { key: hub.a.readKey });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toMatch(/^query\.as_of: /);
    } finally {
      await hub.close();
    }
  });
});
