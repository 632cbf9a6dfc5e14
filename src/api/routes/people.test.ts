import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CertificateSubject } from '../../domain/certificate.ts';
import type { Source } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { createTestHub, type TestHub } from '../app.testkit.ts';
import { databaseOf } from '../../store/database.testkit.ts';

// A valid fødselsnummer (both control digits right), so the resolver matches on it.
const NIN = '01019012138';
const NOW = new Date('2025-01-01T12:00:00Z');
const SEEDED = new Date('2024-03-01T00:00:00Z');

const kari = { first_name: 'Kari', last_name: 'Nordmann', date_of_birth: '1990-01-15' };

function subject(s: Partial<CertificateSubject>): CertificateSubject {
  return { provider_user_id: null, email: null, first_name: null, last_name: null, date_of_birth: null, national_id: null, ...s };
}

interface Summary {
  id: string;
  display_name: string | null;
  emails: string[];
  certificate_count: number;
  has_national_id: boolean;
}
interface Page {
  id: string;
  merged_into: string | null;
  identities: { kind: string; value: string | null; source: string | null; matched_by: string }[];
  certificates: { id: string; source: string; provider: string; issued_at: string | null; updated_at: string; person_id: string }[];
  compliance: { requirement_name: string; state: string; valid_until: string | null; certificate_id: string | null }[];
  merges: { id: string; into_person_id: string; from_person_id: string }[];
}

/** A person page without the timestamps a merge and an unmerge must move. */
function stable(page: object) {
  const { updated_at: _u, certificates, ...rest } = page as { updated_at: string; certificates: Record<string, unknown>[] };
  return { ...rest, certificates: certificates.map(({ updated_at: _c, ...c }) => c) };
}

describe('people API', () => {
  let hub: TestHub;
  let springest: Source;
  /** Every response body, to look for the national id in. */
  let bodies: string[];

  const call = async (method: 'GET' | 'POST', url: string, key: string, body?: unknown) => {
    const res = await hub.call(method, url, body === undefined ? { key } : { key, body });
    bodies.push(res.body);
    return res;
  };
  const get = async <T>(url: string, key = hub.a.readKey): Promise<T> => {
    const res = await call('GET', url, key);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<T>();
  };
  const personOf = async (source: Source, externalId: string) =>
    (await hub.store.certificates.getCertificateByExternalId(source.tenant_id, source.id, externalId))!.person_id!;

  /** Kari on FrontCore (with national id) and Kari on Springest (other email, same name and birthday: a suggestion). */
  async function seedKaris() {
    await hub.seed(
      hub.a.source,
      [
        sampleCertificate(1, { subject: subject({ ...kari, email: 'kari@one.example', provider_user_id: 'fc-1', national_id: NIN }) }),
        sampleCertificate(2, {
          subject: subject({ ...kari, email: 'kari@one.example', provider_user_id: 'fc-1' }),
          achievement: { type: 'course', external_id: 'FIRE-1', title: 'Fire drill', code: 'FIRE-1' },
          issued_at: '2024-01-10T09:00:00.000Z',
          valid_from: '2024-01-10',
          valid_until: '2024-06-30',
        }),
      ],
      { now: SEEDED },
    );
    await hub.seed(
      springest,
      [
        sampleCertificate(3, {
          subject: subject({ ...kari, email: 'k.nordmann@two.example', provider_user_id: 'sp-7' }),
          achievement: { type: 'certification', external_id: '42', title: 'First aid', code: 'AID-42' },
          issued_at: '2023-05-01T08:00:00.000Z',
          valid_from: '2023-05-01',
          valid_until: null,
        }),
      ],
      { now: SEEDED },
    );
    return { fc: await personOf(hub.a.source, 'ext-1'), sp: await personOf(springest, 'ext-3') };
  }

  beforeEach(async () => {
    hub = await createTestHub({ now: () => NOW });
    springest = await hub.store.sources.upsertSourceFromConfig(hub.a.id, {
      slug: 'springest-nl',
      provider: 'springest',
      settings: {},
      credentials: null,
    });
    bodies = [];
  });
  afterEach(async () => {
    // No answer ever carries a national id, in any form.
    for (const body of bodies) {
      expect(body).not.toContain(NIN);
      expect(body).not.toContain('010190 12138');
    }
    await hub.close();
  });

  it('finds people by part of a name, part of an email, or a whole national id, with emails and certificate counts', async () => {
    const { fc, sp } = await seedKaris();
    await hub.seed(hub.a.source, [sampleCertificate(9, { subject: subject({ first_name: 'Ola', last_name: 'Hansen', email: 'ola@x.example' }) })]);
    await hub.seed(hub.b.source, [sampleCertificate(1, { subject: subject({ ...kari, email: 'kari@one.example', national_id: NIN }) })]);

    const search = async (q: string) => (await get<{ items: Summary[] }>(`/v1/people?q=${encodeURIComponent(q)}`)).items;
    expect((await search('nordMANN')).map((p) => p.id).sort()).toEqual([fc, sp].sort());
    expect((await search('@two.exa')).map((p) => p.id)).toEqual([sp]);
    expect((await search('010190 12138')).map((p) => p.id)).toEqual([fc]);
    expect(await search('010190')).toEqual([]);
    const [found] = await search(NIN);
    expect(found).toMatchObject({
      id: fc,
      display_name: 'Kari Nordmann',
      date_of_birth: '1990-01-15',
      emails: ['kari@one.example'],
      has_national_id: true,
      certificate_count: 2,
      merged_into: null,
    });

    // Pages by name; tenant b's Kari is never among a's people.
    const first = await get<{ items: Summary[]; next_cursor: string }>('/v1/people?limit=2');
    expect(first.items.map((p) => p.display_name)).toEqual(['Kari Nordmann', 'Kari Nordmann']);
    const second = await get<{ items: Summary[]; next_cursor: string | null }>(`/v1/people?limit=2&cursor=${first.next_cursor}`);
    expect(second).toEqual({ items: [expect.objectContaining({ display_name: 'Ola Hansen' })], next_cursor: null });
    expect((await call('GET', '/v1/people?limit=0', hub.a.readKey)).json().error.message).toMatch(/^query\.limit: /);
  });

  it('shows a person: identities without the national id, certificates from every provider in time order, compliance now and as of', async () => {
    const { fc } = await seedKaris();
    await hub.seed(springest, [sampleCertificate(4, { subject: subject({ email: 'kari@one.example' }), issued_at: null })], { now: SEEDED });
    const safety = await hub.store.requirements.createRequirement(hub.a.id, {
      name: 'Safety',
      rule: { any_of: [{ code: 'SAFE-101' }], valid_months_without_end: 24, warn_days: 30 },
    });
    await hub.store.requirements.createRequirement(hub.a.id, {
      name: 'Fire',
      rule: { any_of: [{ code: 'FIRE-1' }], valid_months_without_end: null, warn_days: 30 },
    });

    const page = await get<Page>(`/v1/people/${fc}`);
    expect(page).toMatchObject({ id: fc, display_name: 'Kari Nordmann', has_national_id: true, merged_into: null, merges: [], as_of: null });
    expect(page.identities.map((i) => [i.kind, i.value, i.source])).toEqual([
      ['national_id', null, null],
      ['email', 'kari@one.example', null],
      ['provider_user', 'fc-1', 'frontcore-main'],
      ['name_dob', 'kari nordmann|1990-01-15', null],
    ]);
    expect(page.certificates.map((c) => [c.source, c.issued_at])).toEqual([
      ['frontcore-main', '2024-01-10T09:00:00.000Z'],
      ['frontcore-main', '2024-02-15T15:30:00.000Z'],
      ['springest-nl', null],
    ]);
    const safetyCert = page.certificates[1]!.id;
    expect(page.compliance).toEqual([
      { requirement_id: expect.any(String), requirement_name: 'Fire', state: 'expired', valid_until: '2024-06-30', certificate_id: page.certificates[0]!.id },
      { requirement_id: safety.id, requirement_name: 'Safety', state: 'compliant', valid_until: '2026-02-14', certificate_id: safetyCert },
    ]);

    // As of a day before anything was seen: no certificates, nothing held. As of spring 2024: the fire drill still counted.
    const before = await get<Page>(`/v1/people/${fc}?as_of=2024-02-29T00:00:00Z`);
    expect(before.certificates).toEqual([]);
    expect(before.compliance.map((c) => c.state)).toEqual(['missing', 'missing']);
    const spring = await get<Page>(`/v1/people/${fc}?as_of=2024-04-01`);
    expect(spring.compliance.map((c) => c.state)).toEqual(['compliant', 'compliant']);
    expect((await call('GET', `/v1/people/${fc}?as_of=yesterday`, hub.a.readKey)).statusCode).toBe(400);

    expect((await call('GET', '/v1/people/no-such-person', hub.a.readKey)).json()).toEqual({
      error: { code: 'not_found', message: 'person no-such-person not found' },
    });
  });

  it('merges two people and unmerges them back to exactly the pages they had', async () => {
    const { fc, sp } = await seedKaris();
    const [fcBefore, spBefore] = [await get<Page>(`/v1/people/${fc}`), await get<Page>(`/v1/people/${sp}`)];
    const [suggestion] = (await get<{ items: { id: string; status: string }[] }>('/v1/suggestions?status=open')).items;

    const merged = await call('POST', `/v1/people/${fc}/merge`, hub.a.adminKey, { person_id: sp });
    expect(merged.statusCode, merged.body).toBe(200);
    const { merge, person } = merged.json<{ merge: { id: string; moved: unknown }; person: Page }>();
    expect(merge).toMatchObject({ into_person_id: fc, from_person_id: sp, moved: { identities: 3, certificates: 1 }, undone_at: null });
    expect(person.certificates.map((c) => c.provider)).toEqual(['springest', 'frontcore', 'frontcore']);
    expect(person.certificates.every((c) => c.person_id === fc)).toBe(true);
    expect(person.identities.map((i) => i.value)).toContain('k.nordmann@two.example');
    expect(person.merges).toEqual([expect.objectContaining({ id: merge.id, from_person_id: sp })]);
    // The merged-away person still answers, pointing at the survivor; search no longer lists them.
    const away = await get<Page>(`/v1/people/${sp}`);
    expect(away).toMatchObject({ merged_into: fc, identities: [], certificates: [], merges: [{ id: merge.id }] });
    expect((await get<{ items: Summary[] }>('/v1/people?q=kari')).items.map((p) => p.id)).toEqual([fc]);
    expect((await get<{ items: { id: string; status: string }[] }>(`/v1/suggestions`)).items).toEqual([
      expect.objectContaining({ id: suggestion!.id, status: 'merged' }),
    ]);
    // A certificate of the merged-away person's email that syncs now lands on the survivor.
    await hub.seed(springest, [sampleCertificate(5, { subject: subject({ email: 'K.Nordmann@two.example' }) })]);
    expect(await personOf(springest, 'ext-5')).toBe(fc);
    // Out of the way again, so the pages after the unmerge compare with the ones before it.
    await databaseOf(hub.store).deleteFrom('certificates').where('external_id', '=', 'ext-5').execute();

    expect((await call('POST', `/v1/people/${fc}/merge`, hub.a.adminKey, { person_id: sp })).statusCode).toBe(409);
    expect((await call('POST', `/v1/people/${fc}/merge`, hub.a.adminKey, { person_id: fc })).statusCode).toBe(400);

    const undone = await call('POST', `/v1/people/${fc}/unmerge`, hub.a.adminKey, { person_id: sp });
    expect(undone.statusCode, undone.body).toBe(200);
    expect(undone.json().merge).toMatchObject({ id: merge.id, undone_at: NOW.toISOString() });
    const [fcAfter, spAfter] = [await get<Page>(`/v1/people/${fc}`), await get<Page>(`/v1/people/${sp}`)];
    expect(stable(fcAfter)).toEqual(stable(fcBefore));
    expect(stable(spAfter)).toEqual(stable(spBefore));
    expect(stable(undone.json().restored_person)).toEqual(stable(spBefore));
    // The moved certificate shows as changed to anyone reading changes.
    expect(spAfter.certificates[0]!.updated_at).toBe(NOW.toISOString());
    expect((await get<{ items: { id: string }[] }>('/v1/suggestions?status=open')).items.map((s) => s.id)).toEqual([suggestion!.id]);

    // By merge id too; an undone merge cannot be undone twice.
    const again = (await call('POST', `/v1/people/${sp}/merge`, hub.a.adminKey, { person_id: fc })).json<{ merge: { id: string } }>();
    expect((await call('POST', `/v1/people/${fc}/unmerge`, hub.a.adminKey, { merge_id: again.merge.id })).statusCode).toBe(404);
    expect((await call('POST', `/v1/people/${sp}/unmerge`, hub.a.adminKey, { merge_id: again.merge.id })).statusCode).toBe(200);
    expect((await call('POST', `/v1/people/${sp}/unmerge`, hub.a.adminKey, { merge_id: again.merge.id })).statusCode).toBe(404);
    const both = await call('POST', `/v1/people/${sp}/unmerge`, hub.a.adminKey, { merge_id: again.merge.id, person_id: fc });
    expect(both.json().error.message).toMatch(/^body: give exactly one/);
  });

  it('lists suggested matches with both people, merges one into the older person, and rejects another', async () => {
    const { fc, sp } = await seedKaris();
    const listed = await get<{ items: { id: string; reason: string; status: string; people: Summary[] }[] }>('/v1/suggestions?status=open');
    expect(listed.items).toHaveLength(1);
    const [s] = listed.items;
    expect(s).toMatchObject({ reason: 'same_name_dob', status: 'open' });
    expect(s!.people).toEqual([
      expect.objectContaining({ id: fc, display_name: 'Kari Nordmann', date_of_birth: '1990-01-15', emails: ['kari@one.example'], certificate_count: 2 }),
      expect.objectContaining({ id: sp, emails: ['k.nordmann@two.example'], certificate_count: 1 }),
    ]);

    const merged = await call('POST', `/v1/suggestions/${s!.id}/merge`, hub.a.adminKey);
    expect(merged.statusCode, merged.body).toBe(200);
    expect(merged.json()).toMatchObject({
      merge: { into_person_id: fc, from_person_id: sp },
      person: { id: fc, merged_into: null },
      suggestion: { id: s!.id, status: 'merged' },
    });
    expect((await call('POST', `/v1/suggestions/${s!.id}/merge`, hub.a.adminKey)).statusCode).toBe(409);
    expect((await call('POST', `/v1/suggestions/${s!.id}/reject`, hub.a.adminKey)).statusCode).toBe(409);
    expect((await get<{ items: unknown[] }>('/v1/suggestions?status=open')).items).toEqual([]);

    // Another pair, kept apart.
    await hub.seed(hub.a.source, [sampleCertificate(20, { subject: subject({ first_name: 'Ola', last_name: 'Hansen', date_of_birth: '1985-03-01', email: 'ola1@x.example' }) })]);
    await hub.seed(springest, [sampleCertificate(21, { subject: subject({ first_name: 'Ola', last_name: 'Hansen', date_of_birth: '1985-03-01', email: 'ola2@x.example' }) })]);
    const [ola] = (await get<{ items: { id: string }[] }>('/v1/suggestions?status=open')).items;
    const rejected = await call('POST', `/v1/suggestions/${ola!.id}/reject`, hub.a.adminKey);
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json()).toMatchObject({ id: ola!.id, status: 'rejected' });
    expect((await get<{ items: unknown[] }>('/v1/suggestions?status=open')).items).toEqual([]);
    expect((await get<{ items: { id: string }[] }>('/v1/suggestions?status=rejected')).items.map((x) => x.id)).toEqual([ola!.id]);
    // Both Olas stay separate people.
    expect((await get<{ items: Summary[] }>('/v1/people?q=ola hansen')).items).toHaveLength(2);
    expect((await call('POST', '/v1/suggestions/nope/reject', hub.a.adminKey)).statusCode).toBe(404);
  });

  it('lets a read key look but never merge, unmerge, or act on suggestions', async () => {
    const { fc, sp } = await seedKaris();
    const [s] = (await get<{ items: { id: string }[] }>('/v1/suggestions')).items;
    const attempts = [
      call('POST', `/v1/people/${fc}/merge`, hub.a.readKey, { person_id: sp }),
      call('POST', `/v1/people/${fc}/unmerge`, hub.a.readKey, { person_id: sp }),
      call('POST', `/v1/suggestions/${s!.id}/merge`, hub.a.readKey),
      call('POST', `/v1/suggestions/${s!.id}/reject`, hub.a.readKey),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('forbidden');
    }
    expect((await get<Page>(`/v1/people/${sp}`)).merged_into).toBeNull();
    expect((await get<{ items: { status: string }[] }>('/v1/suggestions')).items[0]!.status).toBe('open');
  });

  it("answers 404 for another tenant's people and suggestions on every route, and never touches them", async () => {
    const { fc: aPerson } = await seedKaris();
    await hub.seed(hub.b.source, [
      sampleCertificate(1, { subject: subject({ ...kari, email: 'kari@b.example', provider_user_id: 'b-1' }) }),
      sampleCertificate(2, { subject: subject({ ...kari, email: 'kari2@b.example', provider_user_id: 'b-2' }) }),
    ]);
    const bPeople = (await get<{ items: Summary[] }>('/v1/people', hub.b.readKey)).items.map((p) => p.id);
    const [bSuggestion] = (await get<{ items: { id: string }[] }>('/v1/suggestions', hub.b.readKey)).items;
    const [b1, b2] = bPeople as [string, string];
    const bState = async () => ({
      pages: await Promise.all(bPeople.map((id) => get<Page>(`/v1/people/${id}`, hub.b.readKey))),
      suggestions: await get<unknown>('/v1/suggestions', hub.b.readKey),
    });
    const before = await bState();

    const key = hub.a.adminKey;
    const attempts = [
      call('GET', `/v1/people/${b1}`, key),
      call('POST', `/v1/people/${b1}/merge`, key, { person_id: b2 }),
      call('POST', `/v1/people/${aPerson}/merge`, key, { person_id: b1 }),
      call('POST', `/v1/people/${b1}/merge`, key, { person_id: aPerson }),
      call('POST', `/v1/people/${b1}/unmerge`, key, { person_id: b2 }),
      call('POST', `/v1/suggestions/${bSuggestion!.id}/merge`, key),
      call('POST', `/v1/suggestions/${bSuggestion!.id}/reject`, key),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    expect((await get<{ items: unknown[] }>('/v1/people?q=b.example')).items).toEqual([]);

    // b merges its own pair; a cannot undo it, by person or by merge id.
    const bMerge = (await call('POST', `/v1/people/${b1}/merge`, hub.b.adminKey, { person_id: b2 })).json<{ merge: { id: string } }>();
    const merged = await bState();
    expect((await call('POST', `/v1/people/${b1}/unmerge`, key, { person_id: b2 })).statusCode).toBe(404);
    expect((await call('POST', `/v1/people/${b1}/unmerge`, key, { merge_id: bMerge.merge.id })).statusCode).toBe(404);
    expect((await call('POST', `/v1/people/${aPerson}/unmerge`, key, { merge_id: bMerge.merge.id })).statusCode).toBe(404);
    expect(await bState()).toEqual(merged);
    expect((await call('POST', `/v1/people/${b1}/unmerge`, hub.b.adminKey, { person_id: b2 })).statusCode).toBe(200);
    expect((await bState()).pages.map(stable)).toEqual(before.pages.map(stable));
  });
});
