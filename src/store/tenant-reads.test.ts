/** Finding 20 (issue 13): every store read of tenant data takes the tenant and checks it in SQL. */
import { expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { describeEachDialect, sampleCertificate } from './dialects.testkit.ts';

const T1 = new Date('2024-06-01T10:00:00.000Z');

async function expectNotFound(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('not_found');
}

describeEachDialect('tenant-scoped reads', (h) => {
  it("finding 20: each read given another tenant's id for tenant A's rows returns nothing (or not_found)", async () => {
    const store = await h.open();
    const a = (await store.tenants.getTenantBySlug('default'))!;
    const b = await store.tenants.createTenant({ slug: 'globex', name: 'Globex' });
    const source = await store.sources.upsertSourceFromConfig(a.id, {
      slug: 'fc',
      provider: 'frontcore',
      settings: {},
      credentials: { api_key: 'key-of-a' },
    });
    await store.certificates.savePage(source.id, [sampleCertificate(1)], null, { now: T1 });
    const person = await store.people.createPerson(a.id, { display_name: 'Kari', national_id: '01019012138' });
    await store.people.addIdentity(a.id, person.id, { kind: 'email', value: 'kari@example.com', matched_by: 'email' });
    const cert = (await store.certificates.getCertificateByExternalId(a.id, source.id, 'ext-1'))!;

    // Tenant A sees its own rows...
    expect(await store.sources.getSource(a.id, source.id)).not.toBeNull();
    expect(await store.sources.getSourceCredentials(a.id, source.id)).toEqual({ api_key: 'key-of-a' });
    expect(await store.people.listIdentities(a.id, person.id)).toHaveLength(2);
    expect(await store.certificates.listCertificateVersions(a.id, cert.id)).toHaveLength(1);
    expect(await store.achievements.listSourceCatalog(a.id, source.id)).toHaveLength(1);

    // ...tenant B asking for the same ids gets nothing.
    expect(await store.sources.getSource(b.id, source.id)).toBeNull();
    await expectNotFound(store.sources.getSourceCredentials(b.id, source.id));
    await expectNotFound(store.sources.setSourceEnabled(b.id, source.id, false));
    expect((await store.sources.getSource(a.id, source.id))!.enabled).toBe(true);
    expect(await store.people.listIdentities(b.id, person.id)).toEqual([]);
    await expectNotFound(store.people.addIdentity(b.id, person.id, { kind: 'email', value: 'x@example.com', matched_by: 'email' }));
    expect(await store.people.listIdentities(a.id, person.id)).toHaveLength(2);
    expect(await store.certificates.getCertificateByExternalId(b.id, source.id, 'ext-1')).toBeNull();
    expect(await store.certificates.listCertificateVersions(b.id, cert.id)).toEqual([]);
    expect(await store.achievements.listSourceCatalog(b.id, source.id)).toEqual([]);

    // The two reads across tenants are named for their callers.
    expect((await store.sources.listAllSourcesForScheduler()).map((s) => s.id)).toEqual([source.id]);
    expect((await store.sources.getSourceForLauncher(source.id))?.tenant_id).toBe(a.id);
  });
});
