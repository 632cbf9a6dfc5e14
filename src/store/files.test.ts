import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachDialect, sampleCertificate } from './dialects.testkit.ts';

const T1 = new Date('2024-06-01T10:00:00.000Z');

describeEachDialect('file archive', (h) => {
  it('keeps bytes by their sha256, once, and gives back exactly those bytes', async () => {
    const store = await h.open();
    // Every byte value, so no encoding step can go unnoticed.
    const bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
    const sha = await store.files.putBlob(bytes, 'application/pdf', { now: T1 });
    expect(sha).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await store.files.putBlob(Buffer.from(bytes), 'application/pdf')).toBe(sha);
    expect(await h.rows(store, 'file_blobs')).toHaveLength(1);
    const blob = (await store.files.getBlob(sha))!;
    expect(blob.bytes.equals(bytes)).toBe(true);
    expect(blob).toMatchObject({ sha256: sha, content_type: 'application/pdf', size: bytes.length, created_at: T1.toISOString() });
    expect(await store.files.getBlob('0'.repeat(64))).toBeNull();
  });

  it("points a certificate at its file without changing updated_at or adding a version, and only in the certificate's tenant", async () => {
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const other = await store.tenants.createTenant({ slug: 'other', name: 'Other' });
    const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    await store.certificates.savePage(source.id, [sampleCertificate(1)], null, { now: T1 });
    const before = (await store.certificates.getCertificateByExternalId(source.tenant_id, source.id, 'ext-1'))!;
    const sha = await store.files.putBlob(Buffer.from('%PDF-1.4 x'), 'application/pdf');

    expect(await store.files.setCertificateFile(other.id, before.id, sha)).toBe(false);
    expect((await store.certificates.getCertificate(tenant.id, before.id))!.file.sha256).toBeNull();
    expect(await store.files.setCertificateFile(tenant.id, before.id, sha)).toBe(true);

    const after = (await store.certificates.getCertificate(tenant.id, before.id))!;
    expect(after.file).toEqual({ available: true, sha256: sha });
    expect(after.updated_at).toBe(before.updated_at);
    expect(await h.rows(store, 'certificate_versions')).toHaveLength(1);
    // The next sync of the same payload is still "unchanged" and keeps the file.
    expect(await store.certificates.savePage(source.id, [sampleCertificate(1)], null)).toMatchObject({ unchanged: 1 });
    expect((await store.certificates.getCertificate(tenant.id, before.id))!.file.sha256).toBe(sha);
  });
});
