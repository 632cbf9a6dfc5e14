import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDialect } from './dialects.testkit.ts';
import { databaseOf } from './database.testkit.ts';

describeEachDialect('findPeopleByIdentities', (h) => {
  it('answers thousands of values of one kind in a few statements, per tenant and per source, national ids by HMAC', async () => {
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const other = await store.tenants.createTenant({ slug: 'other', name: 'Other' });
    const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    const kari = await store.people.createPerson(tenant.id, { display_name: 'Kari', national_id: '01019012345' });
    const ola = await store.people.createPerson(tenant.id, { display_name: 'Ola' });
    const twin = await store.people.createPerson(tenant.id, { display_name: 'Ola' });
    const stranger = await store.people.createPerson(other.id, { display_name: 'Kari elsewhere' });
    await store.people.addIdentity(kari.tenant_id, kari.id, { kind: 'email', value: 'kari@example.com', matched_by: 'email' });
    await store.people.addIdentity(stranger.tenant_id, stranger.id, { kind: 'email', value: 'stranger@example.com', matched_by: 'email' });
    await store.people.addIdentity(ola.tenant_id, ola.id, { kind: 'provider_user', value: '289252', source_id: source.id, matched_by: 'provider_user' });
    for (const p of [ola, twin]) {
      await store.people.addIdentity(p.tenant_id, p.id, { kind: 'name_dob', value: 'ola nordmann|1990-01-15', matched_by: 'name_dob' });
    }

    // 12,000 values: more than two IN lists' worth; only the known ones come back, keyed by the value as asked.
    const emails = Array.from({ length: 12_000 }, (_, i) => `nobody${i}@example.com`);
    emails.push(' KARI@example.com ', 'stranger@example.com');
    const byEmail = await store.people.findPeopleByIdentities(tenant.id, 'email', emails);
    expect([...byEmail.keys()]).toEqual([' KARI@example.com ']);
    expect(byEmail.get(' KARI@example.com ')?.map((p) => p.id)).toEqual([kari.id]);

    const byNin = await store.people.findPeopleByIdentities(tenant.id, 'national_id', ['010190 123 45', '01019012346']);
    expect([...byNin.entries()].map(([k, v]) => [k, v.map((p) => p.id)])).toEqual([['010190 123 45', [kari.id]]]);

    expect((await store.people.findPeopleByIdentities(tenant.id, 'provider_user', ['289252'], { sourceId: source.id })).get('289252')?.[0]?.id).toBe(ola.id);
    expect((await store.people.findPeopleByIdentities(tenant.id, 'provider_user', ['289252'], { sourceId: null })).size).toBe(0);

    const shared = await store.people.findPeopleByIdentities(tenant.id, 'name_dob', ['ola nordmann|1990-01-15']);
    expect(shared.get('ola nordmann|1990-01-15')?.map((p) => p.id).sort()).toEqual([ola.id, twin.id].sort());

    // A person merged into another no longer answers for the identities left on it.
    await sql`update people set merged_into = ${ola.id} where id = ${twin.id}`.execute(databaseOf(store));
    const afterMerge = await store.people.findPeopleByIdentities(tenant.id, 'name_dob', ['ola nordmann|1990-01-15']);
    expect(afterMerge.get('ola nordmann|1990-01-15')?.map((p) => p.id)).toEqual([ola.id]);
    expect((await store.people.findPeopleByIdentities(other.id, 'email', ['kari@example.com'])).size).toBe(0);
  });
});
