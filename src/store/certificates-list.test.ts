import { expect, it } from 'vitest';
import { VALIDITIES, type Validity } from '../domain/certificate.ts';
import type { CertificateFilter, Store } from './index.ts';
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

describeEachDialect('certificate lists: filters, validity, as of', (h) => {
  it('filters by validity in SQL exactly as the validity field says, on the Oslo calendar day', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    // 2024-06-30T22:30Z is already July 1st in Oslo: the day boundaries below are that day's.
    const now = new Date('2024-06-30T22:30:00.000Z');
    const dated: [string | null, string | null][] = [
      [null, null],
      ['2024-07-01', null],
      ['2024-07-02', null],
      [null, '2024-07-01'],
      [null, '2024-06-30'],
      ['2024-01-01', '2024-12-31'],
      ['2024-08-01', '2024-06-01'],
    ];
    const page = [
      ...dated.map(([from, until], i) => cert(i, { valid_from: from, valid_until: until })),
      cert(20, { status: 'revoked', valid_until: '2020-01-01' }),
      cert(21, { status: 'pending' }),
      cert(22, { status: 'deleted' }),
    ];
    await store.certificates.savePage(sourceId, page, null, { now: T1 });
    const all = (await store.certificates.listCertificates(tenantId, {}, {}, { now })).items;
    expect(new Set(all.map((c) => c.validity))).toEqual(new Set(VALIDITIES));
    for (const v of VALIDITIES) {
      const filtered = (await store.certificates.listCertificates(tenantId, { validities: [v] }, {}, { now })).items;
      expect(filtered.map((c) => c.id).sort(), v).toEqual(all.filter((c) => c.validity === v).map((c) => c.id).sort());
    }
    const pair: Validity[] = ['expired', 'not_yet_valid'];
    const both = (await store.certificates.listCertificates(tenantId, { validities: pair }, {}, { now })).items;
    expect(both.map((c) => c.external_id).sort()).toEqual(['ext-2', 'ext-4', 'ext-6']);
    expect((await store.certificates.listCertificates(tenantId, { validities: [] })).items).toEqual([]);
  });

  it('filters by code, end date range and a set of people', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    await store.certificates.savePage(
      sourceId,
      [
        cert(1, { valid_until: '2025-01-01' }),
        cert(2, { valid_until: '2025-06-30', achievement: { type: 'course', external_id: 'X', title: null, code: 'FIRE-1' } }),
        cert(3),
      ],
      null,
      { now: T1 },
    );
    const p1 = await store.people.createPerson(tenantId, { display_name: 'One' });
    const p2 = await store.people.createPerson(tenantId, { display_name: 'Two' });
    const byExt = async (n: number) => (await store.certificates.getCertificateByExternalId(tenantId, sourceId, `ext-${n}`))!.id;
    await store.people.linkCertificateToPerson(tenantId, await byExt(1), p1.id);
    await store.people.linkCertificateToPerson(tenantId, await byExt(2), p2.id);
    const ids = async (filter: CertificateFilter) =>
      (await store.certificates.listCertificates(tenantId, filter)).items.map((c) => c.external_id).sort();
    expect(await ids({ achievement_code: 'FIRE-1' })).toEqual(['ext-2']);
    expect(await ids({ valid_until_from: '2025-01-01' })).toEqual(['ext-1', 'ext-2']);
    expect(await ids({ valid_until_from: '2025-01-02' })).toEqual(['ext-2']);
    expect(await ids({ valid_until_before: '2025-06-30' })).toEqual(['ext-1']);
    expect(await ids({ person_ids: [p1.id, p2.id] })).toEqual(['ext-1', 'ext-2']);
    expect(await ids({ person_ids: [] })).toEqual([]);
  });

  it('lists as of an instant: each certificate as its version then, filters on those values, pages with a cursor', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    await store.certificates.savePage(sourceId, Array.from({ length: 9 }, (_, i) => cert(i)), null, { now: T1 });
    // At T2 three were revoked, and one more certificate appeared.
    await store.certificates.savePage(
      sourceId,
      [cert(0, { status: 'revoked' }), cert(1, { status: 'revoked' }), cert(2, { status: 'revoked' }), cert(9)],
      null,
      { now: T2 },
    );
    const between = new Date((T1.getTime() + T2.getTime()) / 2).toISOString();

    const walk = async (filter: CertificateFilter, asOf: string) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await store.certificates.listCertificates(tenantId, filter, { limit: 2, cursor }, { asOf });
        seen.push(...page.items.map((c) => `${c.external_id}:${c.status}`));
        cursor = page.next_cursor;
      } while (cursor !== null);
      return seen;
    };
    const then = await walk({}, between);
    expect(then).toHaveLength(9);
    expect(new Set(then).size).toBe(9);
    expect(then.every((s) => s.endsWith(':awarded'))).toBe(true);
    expect(await walk({ statuses: ['revoked'] }, between)).toEqual([]);
    expect((await walk({ statuses: ['revoked'] }, T3.toISOString())).sort()).toEqual(['ext-0:revoked', 'ext-1:revoked', 'ext-2:revoked']);
    expect(await walk({ validities: ['revoked'] }, between)).toEqual([]);
    expect(await walk({}, T3.toISOString())).toHaveLength(10);
    expect(await walk({}, '2024-05-01T00:00:00.000Z')).toEqual([]);

    const asOfPage = await store.certificates.listCertificates(tenantId, {}, { limit: 100 }, { asOf: between });
    expect(asOfPage.items.every((c) => c.updated_at === T1.toISOString() && c.last_seen_at <= between)).toBe(true);
  });

  it('lists versions and the raw payload only within the tenant', async () => {
    const { store, tenantId, sourceId } = await setup(h);
    await store.certificates.savePage(sourceId, [cert(1)], null, { now: T1 });
    await store.certificates.savePage(sourceId, [cert(1, { status: 'revoked' })], null, { now: T2 });
    const id = (await store.certificates.getCertificateByExternalId(tenantId, sourceId, 'ext-1'))!.id;
    const other = await store.tenants.createTenant({ slug: 'other', name: 'Other' });
    expect((await store.certificates.listCertificateVersions(tenantId, id)).map((v) => v.status)).toEqual(['awarded', 'revoked']);
    expect(await store.certificates.listCertificateVersions(other.id, id)).toEqual([]);
    expect(await store.certificates.getCertificateRaw(tenantId, id)).toEqual({ raw: cert(1).raw });
    expect(await store.certificates.getCertificateRaw(other.id, id)).toBeNull();
  });
});
