import { expect, it } from 'vitest';
import { describeEachDialect, sampleCertificate } from './dialects.testkit.ts';

describeEachDialect('achievement catalog', (h) => {
  it("lists a source's catalog and finds the tenant's achievements by code, case-insensitively", async () => {
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const other = await store.tenants.createTenant({ slug: 'other', name: 'Other' });
    const source = async (tenantId: string, slug: string) =>
      (await store.sources.upsertSourceFromConfig(tenantId, { slug, provider: 'frontcore', settings: {}, credentials: null })).id;
    const main = await source(tenant.id, 'frontcore-main');
    const second = await source(tenant.id, 'frontcore-two');
    const foreign = await source(other.id, 'frontcore-main');

    await store.certificates.savePage(main, [sampleCertificate(1)], null, {
      catalog: [
        { type: 'course', external_id: 'C-1', title: 'Safety', code: 'SAFE-101' },
        { type: 'course', external_id: 'C-2', title: 'Første hjelp', code: 'ÆRØ-1' },
        { type: 'course', external_id: 'C-3', title: 'Uncoded', code: null },
      ],
    });
    await store.certificates.savePage(second, [], null, { catalog: [{ type: 'program', external_id: 'P-1', title: null, code: 'safe-101' }] });
    await store.certificates.savePage(foreign, [], null, { catalog: [{ type: 'course', external_id: 'X-1', title: null, code: 'SAFE-101' }] });

    const catalog = await store.achievements.listSourceCatalog(tenant.id, main);
    const sample = sampleCertificate(1).achievement;
    expect(catalog.map((a) => [a.type, a.external_id, a.code]).sort()).toEqual(
      [
        ['course', 'C-1', 'SAFE-101'],
        ['course', 'C-2', 'ÆRØ-1'],
        ['course', 'C-3', null],
        [sample.type, sample.external_id, sample.code],
      ].sort(),
    );
    expect(catalog.every((a) => a.source_id === main)).toBe(true);

    const safe = await store.achievements.findByCode(tenant.id, 'Safe-101');
    expect(safe.map((a) => [a.source_id, a.external_id]).sort()).toEqual(
      [
        [main, 'C-1'],
        [main, sample.external_id],
        [second, 'P-1'],
      ].sort(),
    );
    expect((await store.achievements.findByCode(tenant.id, 'ærø-1')).map((a) => a.external_id)).toEqual(['C-2']);
    expect(await store.achievements.findByCode(tenant.id, 'SAFE-10')).toEqual([]);
    expect(await store.achievements.findByCode(other.id, 'ærø-1')).toEqual([]);
  });
});
