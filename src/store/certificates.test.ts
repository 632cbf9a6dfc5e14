import { expect, it } from 'vitest';
import type { CertificateStatus, NormalizedCertificate } from '../domain/certificate.ts';
import type { Store } from './index.ts';
import { describeEachDialect, sampleCertificate as cert, type StoreHarness } from './dialects.testkit.ts';

async function setup(h: StoreHarness): Promise<{ store: Store; tenantId: string; sourceId: string }> {
  const store = await h.open();
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  const source = await store.sources.upsertSourceFromConfig(tenant.id, {
    slug: 'frontcore-main',
    provider: 'frontcore',
    settings: {},
    credentials: { api_key: 'k' },
  });
  return { store, tenantId: tenant.id, sourceId: source.id };
}

const T1 = new Date('2024-06-01T10:00:00.000Z');
const T2 = new Date('2024-06-02T10:00:00.000Z');
const T3 = new Date('2024-06-03T10:00:00.000Z');

describeEachDialect('certificates', (h) => {
  it('stores a new page, then the same page again is all unchanged and adds no versions', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    const page = [cert(1), cert(2), cert(3)];
    expect(await store.certificates.savePage(sourceId, page, { cursor: 'a' }, { now: T1 })).toEqual({
      created: 3,
      updated: 0,
      unchanged: 0,
    });
    expect(await store.sync.getCheckpoint(sourceId)).toEqual({ cursor: 'a' });

    // Same data, keys in another order: still unchanged (the hash is over canonical JSON).
    const reordered = page.map((c) => ({ ...c, raw: { participant: { user_id: c.subject.provider_user_id }, name: 'Safety Training', id: Number(c.external_id.slice(4)) } }));
    expect(await store.certificates.savePage(sourceId, reordered, { cursor: 'b' }, { now: T2 })).toEqual({
      created: 0,
      updated: 0,
      unchanged: 3,
    });
    expect(await store.sync.getCheckpoint(sourceId)).toEqual({ cursor: 'b' });
    expect(await h.rows(store, 'certificate_versions')).toHaveLength(3);

    const stored = (await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-1', { now: T2 }))!;
    expect(stored).toMatchObject({
      source: 'frontcore-main',
      provider: 'frontcore',
      external_id: 'ext-1',
      status: 'awarded',
      validity: 'valid',
      person_id: null,
      subject: { email: 'person1@example.com', provider_user_id: 'u-1' },
      achievement: { type: 'course', external_id: 'SAFE-101', title: 'Safety Training', code: 'SAFE-101' },
      issued_at: '2024-02-15T15:30:00.000Z',
      valid_from: '2024-02-15',
      file: { available: true, sha256: null },
      first_seen_at: T1.toISOString(),
      updated_at: T1.toISOString(),
      last_seen_at: T2.toISOString(),
    });
    expect(await store.certificates.getCertificate(tenantId, stored.id)).toMatchObject({ id: stored.id });
  });

  it('a changed record is updated and gets version 2, with its history kept', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    await store.certificates.savePage(sourceId, [cert(1), cert(2)], null, { now: T1 });
    const revoked = cert(1, { status: 'revoked', raw: { id: 1, revoked: true } });
    expect(await store.certificates.savePage(sourceId, [revoked, cert(2)], null, { now: T2 })).toEqual({
      created: 0,
      updated: 1,
      unchanged: 1,
    });
    const current = (await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-1'))!;
    expect(current).toMatchObject({ status: 'revoked', validity: 'revoked', updated_at: T2.toISOString() });
    expect(current.first_seen_at).toBe(T1.toISOString());

    const history = await store.certificates.listCertificateVersions(tenantId, current.id);
    expect(history.map((v) => [v.version, v.status, v.recorded_at])).toEqual([
      [1, 'awarded', T1.toISOString()],
      [2, 'revoked', T2.toISOString()],
    ]);
    expect(history[1]!.raw).toEqual({ id: 1, revoked: true });
    expect(history[0]!.payload_hash).not.toBe(history[1]!.payload_hash);
  });

  it('a repeated external_id within one page counts once and the last one wins', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    const report = await store.certificates.savePage(sourceId, [cert(1, { serial: 'first' }), cert(2), cert(1, { serial: 'last' })], null);
    expect(report).toEqual({ created: 2, updated: 0, unchanged: 0 });
    expect((await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-1'))!.serial).toBe('last');
  });

  it('a page that fails mid-way leaves neither its certificates nor its checkpoint behind', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    await store.certificates.savePage(sourceId, [cert(1), cert(2)], { page: 1 }, { now: T1 });
    const bad = [
      cert(1, { serial: 'changed' }),
      cert(10),
      cert(11, { status: 'bogus' as CertificateStatus }), // violates the status CHECK constraint
      cert(12),
    ];
    await expect(store.certificates.savePage(sourceId, bad, { page: 2 }, { now: T2 })).rejects.toThrow();

    expect(await store.sync.getCheckpoint(sourceId)).toEqual({ page: 1 });
    const rows = await h.rows(store, 'certificates');
    expect(rows.map((r) => r.external_id).sort()).toEqual(['ext-1', 'ext-2']);
    expect(rows.every((r) => r.last_seen_at === T1.toISOString())).toBe(true);
    expect((await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-1'))!.serial).toBe('2024-SAFE-1');
    expect(await h.rows(store, 'certificate_versions')).toHaveLength(2);

    // The store is still usable afterwards.
    expect(await store.certificates.savePage(sourceId, [cert(10)], { page: 2 }, { now: T2 })).toMatchObject({ created: 1 });
  });

  it('never stores a national id in plain text, yet notices when it changes', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    const nin = '01019012345';
    const withNin = (n: number, id: string): NormalizedCertificate =>
      cert(n, {
        subject: { ...cert(n).subject, national_id: id },
        raw: { id: n, national_identification_number: id, note: `NIN ${id}`, nested: [{ ssn: id }] },
      });
    await store.certificates.savePage(sourceId, [withNin(1, nin)], null, { now: T1 });
    expect(await store.certificates.savePage(sourceId, [withNin(1, nin)], null, { now: T2 })).toMatchObject({ unchanged: 1 });
    expect(await store.certificates.savePage(sourceId, [withNin(1, '02029054321')], null, { now: T3 })).toMatchObject({
      updated: 1,
    });

    const tables = ['certificates', 'certificate_versions', 'people', 'person_identities', 'achievements', 'sync_checkpoints'] as const;
    const dump = JSON.stringify(await Promise.all(tables.map((t) => h.rows(store, t))));
    expect(dump).not.toContain(nin);
    expect(dump).not.toContain('02029054321');
    const row = (await h.rows(store, 'certificates'))[0]!;
    expect(row.subject_national_id_hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(String(row.subject_national_id_ciphertext)).toMatch(/^v2\./);
    const read = (await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-1'))!;
    expect(JSON.stringify(read)).not.toContain('national');
  });

  it('fills the achievement catalog without erasing known titles', async () => {
    const { store, sourceId } = await setup(h);
    await store.certificates.savePage(sourceId, [cert(1)], null);
    await store.certificates.savePage(sourceId, [cert(2, { achievement: { type: 'course', external_id: 'SAFE-101', title: null, code: null } })], null);
    const catalog = await h.rows(store, 'achievements');
    expect(catalog).toHaveLength(1);
    expect(catalog[0]).toMatchObject({ type: 'course', external_id: 'SAFE-101', title: 'Safety Training' });
  });

  it('sweeps what a full scan no longer returned, and restores it when it comes back', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    await store.certificates.savePage(sourceId, [cert(1), cert(2), cert(3)], null, { now: T1 });
    await store.certificates.savePage(sourceId, [cert(1), cert(3)], null, { now: T2 });
    expect(await store.certificates.markMissingDeleted(sourceId, T2.toISOString(), { now: T2 })).toEqual({ deleted: 1 });
    expect(await store.certificates.markMissingDeleted(sourceId, T2.toISOString(), { now: T2 })).toEqual({ deleted: 0 });
    const gone = (await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-2'))!;
    expect(gone).toMatchObject({ status: 'deleted', validity: 'deleted' });

    expect(await store.certificates.savePage(sourceId, [cert(2)], null, { now: T3 })).toMatchObject({ updated: 1 });
    expect((await store.certificates.listCertificateVersions(tenantId, gone.id)).map((v) => v.status)).toEqual([
      'awarded',
      'deleted',
      'awarded',
    ]);
  });

  it('pages through every row exactly once in a stable order, while rows are being inserted', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    const total = 57;
    for (let start = 0; start < total; start += 10) {
      const page = Array.from({ length: Math.min(10, total - start) }, (_, i) => cert(start + i));
      // Several rows share one updated_at, so the id tie-break matters.
      await store.certificates.savePage(sourceId, page, null, { now: new Date(T1.getTime() + start * 1000) });
    }
    const original = new Set((await h.rows(store, 'certificates')).map((r) => String(r.id)));

    const seen: string[] = [];
    const order: [string, string][] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const result = await store.certificates.listCertificates(tenantId, {}, { limit: 7, cursor });
      for (const c of result.items) {
        seen.push(c.id);
        order.push([c.updated_at, c.id]);
      }
      cursor = result.next_cursor;
      pages += 1;
      // Someone else writes meanwhile.
      if (pages <= 3) await store.certificates.savePage(sourceId, [cert(1000 + pages)], null);
    } while (cursor !== null);

    expect(new Set(seen).size).toBe(seen.length);
    for (const id of original) expect(seen).toContain(id);
    const sorted = [...order].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
    expect(order).toEqual(sorted);
    expect(seen.length).toBe(total + 3);

    const first = await store.certificates.listCertificates(tenantId, {}, { limit: 5 });
    expect(first.items).toHaveLength(5);
    expect((await store.certificates.listCertificates(tenantId, {}, { limit: 5 })).items).toEqual(first.items);
    expect((await store.certificates.listCertificates(tenantId, {}, { limit: 5000 })).items).toHaveLength(total + 3);
    await expect(store.certificates.listCertificates(tenantId, {}, { cursor: 'garbage' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  it('filters by source, provider, person, status, achievement, updated and issued time', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    const edx = await store.sources.upsertSourceFromConfig(tenantId, { slug: 'edx', provider: 'openedx', settings: {}, credentials: null });
    await store.certificates.savePage(
      sourceId,
      [
        cert(1),
        cert(2, { status: 'revoked', issued_at: '2023-05-01T00:00:00.000Z' }),
        cert(3, { achievement: { type: 'program', external_id: 'P-1', title: 'Prog', code: null } }),
      ],
      null,
      { now: T1 },
    );
    await store.certificates.savePage(edx.id, [cert(4, { status: 'pending' })], null, { now: T2 });
    const person = await store.people.createPerson(tenantId, { display_name: 'Kari' });
    const three = (await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-3'))!;
    await store.people.linkCertificateToPerson(tenantId, three.id, person.id, { now: T3 });

    const ids = async (filter: Parameters<Store['certificates']['listCertificates']>[1]) =>
      (await store.certificates.listCertificates(tenantId, filter)).items.map((c) => c.external_id).sort();
    expect(await ids({})).toEqual(['ext-1', 'ext-2', 'ext-3', 'ext-4']);
    expect(await ids({ source_ids: [edx.id] })).toEqual(['ext-4']);
    expect(await ids({ source_ids: [] })).toEqual([]);
    expect(await ids({ providers: ['frontcore'] })).toEqual(['ext-1', 'ext-2', 'ext-3']);
    expect(await ids({ person_id: person.id })).toEqual(['ext-3']);
    expect(await ids({ statuses: ['revoked', 'pending'] })).toEqual(['ext-2', 'ext-4']);
    expect(await ids({ achievement_type: 'program' })).toEqual(['ext-3']);
    expect(await ids({ achievement_type: 'course', achievement_external_id: 'SAFE-101' })).toEqual(['ext-1', 'ext-2', 'ext-4']);
    // Linking a person is a change readers see: updated_at moved to T3.
    expect(await ids({ updated_since: T2.toISOString() })).toEqual(['ext-3', 'ext-4']);
    expect(await ids({ issued_from: '2024-01-01T00:00:00.000Z' })).toEqual(['ext-1', 'ext-3', 'ext-4']);
    expect(await ids({ issued_before: '2024-01-01T00:00:00.000Z' })).toEqual(['ext-2']);

    expect((await store.certificates.listCertificatesByPerson(tenantId, person.id)).map((c) => c.id)).toEqual([three.id]);
    expect((await store.certificates.getCertificate(tenantId, three.id))!.person_id).toBe(person.id);
  });

  it('scopes every read to its tenant', async () => {
    const { store, tenantId: a } = await setup(h);
    const b = await store.tenants.createTenant({ slug: 'tenant-b', name: 'B' });
    const sourceB = await store.sources.upsertSourceFromConfig(b.id, { slug: 'frontcore-main', provider: 'frontcore', settings: {}, credentials: null });
    await store.certificates.savePage(sourceB.id, [cert(1)], null);
    const certB = (await store.certificates.getCertificateByExternalId(sourceB.tenant_id, sourceB.id, 'ext-1'))!;
    const personB = await store.people.createPerson(b.id, { display_name: 'B person' });
    await store.people.linkCertificateToPerson(b.id, certB.id, personB.id);

    expect(await store.certificates.getCertificate(a, certB.id)).toBeNull();
    expect((await store.certificates.listCertificates(a)).items).toEqual([]);
    expect(await store.certificates.listCertificatesByPerson(a, personB.id)).toEqual([]);
    expect((await store.certificates.getCertificate(b.id, certB.id))!.id).toBe(certB.id);
    expect((await store.certificates.listCertificates(b.id)).items).toHaveLength(1);
    const personA = await store.people.createPerson(a, { display_name: 'A person' });
    await expect(store.people.linkCertificateToPerson(a, certB.id, personA.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.people.linkCertificateToPerson(b.id, certB.id, personA.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('stores a large page in chunks', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    const page = Array.from({ length: 1500 }, (_, i) => cert(i));
    expect(await store.certificates.savePage(sourceId, page, { n: 1 })).toEqual({ created: 1500, updated: 0, unchanged: 0 });
    expect(await store.certificates.savePage(sourceId, page, { n: 2 })).toEqual({ created: 0, updated: 0, unchanged: 1500 });
    expect((await store.certificates.listCertificates(tenantId, {}, { limit: 1000 })).items).toHaveLength(1000);
  });
});

describeEachDialect('certificates as of an instant', (h) => {
  it('answers with the latest version recorded by then, leaves out what was first seen later, and computes validity then', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    const person = await store.people.createPerson(tenantId, { display_name: 'Kari' });
    await store.certificates.savePage(sourceId, [cert(1, { valid_until: '2024-06-02' })], {}, { now: T1 });
    await store.certificates.savePage(sourceId, [cert(1, { status: 'revoked', valid_until: '2024-06-02' }), cert(2)], {}, { now: T3 });
    const one = (await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-1'))!;
    const two = (await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-2'))!;
    await store.people.linkCertificateToPerson(tenantId, one.id, person.id);
    await store.people.linkCertificateToPerson(tenantId, two.id, person.id);

    const before = new Date(T1.getTime() - 1000).toISOString();
    expect(await store.certificates.getCertificate(tenantId, one.id, { asOf: before })).toBeNull();

    const atT1 = (await store.certificates.getCertificate(tenantId, one.id, { asOf: T1.toISOString() }))!;
    expect(atT1).toMatchObject({ status: 'awarded', validity: 'valid', updated_at: T1.toISOString(), last_seen_at: T1.toISOString() });

    const atT2 = await store.certificates.listCertificatesByPeople(tenantId, [person.id], { asOf: T2.toISOString() });
    expect(atT2.map((c) => [c.external_id, c.status, c.validity])).toEqual([['ext-1', 'awarded', 'valid']]);
    // Past the end of 2 June in Oslo it has expired, still as the store knew it on 2 June.
    const lateT2 = await store.certificates.listCertificatesByPeople(tenantId, [person.id], {
      asOf: T2.toISOString(),
      now: new Date('2024-06-02T23:30:00Z'),
    });
    expect(lateT2[0]?.validity).toBe('expired');

    const now = await store.certificates.listCertificatesByPeople(tenantId, [person.id]);
    expect(now.map((c) => [c.external_id, c.status]).sort()).toEqual([
      ['ext-1', 'revoked'],
      ['ext-2', 'awarded'],
    ]);
    expect(await store.certificates.listCertificatesByPeople(tenantId, [])).toEqual([]);
  });
});
