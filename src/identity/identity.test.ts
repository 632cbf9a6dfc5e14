import { expect, it } from 'vitest';
import type { CertificateSubject, NormalizedCertificate } from '../domain/certificate.ts';
import type { Store } from '../store/index.ts';
import { describeEachDialect, sampleCertificate, type StoreHarness } from '../store/dialects.testkit.ts';
import { createPersonResolver } from './resolver.ts';
import { databaseOf } from '../store/database.testkit.ts';

// Valid fødselsnummer (both mod-11 control digits right), as in domain/identity.test.ts.
const NIN = '01019012138';
const OTHER_NIN = '41019012040';

async function setup(h: StoreHarness) {
  const store = await h.open();
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  const add = (slug: string, provider: 'frontcore' | 'springest' | 'openedx') =>
    store.sources.upsertSourceFromConfig(tenant.id, { slug, provider, settings: {}, credentials: null });
  const frontcore = await add('frontcore-main', 'frontcore');
  const springest = await add('springest-nl', 'springest');
  const resolvePeople = createPersonResolver();
  let n = 0;
  /** Saves one certificate per subject (a page), returning the person each was linked to. */
  const save = async (sourceId: string, subjects: Partial<CertificateSubject>[]): Promise<(string | null)[]> => {
    const page: NormalizedCertificate[] = subjects.map((s) => {
      n += 1;
      return sampleCertificate(n, { subject: { ...blank, ...s } });
    });
    await store.certificates.savePage(sourceId, page, null, { resolvePeople });
    const rows = await databaseOf(store)
      .selectFrom('certificates')
      .select(['external_id', 'person_id'])
      .where('source_id', '=', sourceId)
      .where(
        'external_id',
        'in',
        page.map((c) => c.external_id),
      )
      .execute();
    const byExt = new Map(rows.map((r) => [r.external_id, r.person_id]));
    return page.map((c) => byExt.get(c.external_id) ?? null);
  };
  return { store, tenantId: tenant.id, frontcore: frontcore.id, springest: springest.id, save, resolvePeople };
}

const blank: CertificateSubject = {
  provider_user_id: null,
  email: null,
  first_name: null,
  last_name: null,
  date_of_birth: null,
  national_id: null,
};

const count = async (store: Store, table: 'people' | 'person_identities' | 'person_suggestions') =>
  Number((await databaseOf(store).selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describeEachDialect('identity on ingest', (h) => {
  it('links email case variants to one person, across sources and within one page', async () => {
    const { store, tenantId, frontcore, springest, save } = await setup(h);
    const [a, b] = await save(frontcore, [{ email: 'Kari.Nordmann@Example.com' }, { email: ' kari.nordmann@example.COM ' }]);
    const [c] = await save(springest, [{ email: 'KARI.NORDMANN@EXAMPLE.COM' }]);
    expect(a).not.toBeNull();
    expect(new Set([a, b, c])).toEqual(new Set([a]));
    expect(await count(store, 'people')).toBe(1);
    const identities = await store.people.listIdentities(tenantId, a!);
    expect(identities).toEqual([expect.objectContaining({ kind: 'email', value: 'kari.nordmann@example.com', matched_by: 'created' })]);
    expect(await store.certificates.listCertificatesByPerson(tenantId, a!)).toHaveLength(3);
  });

  it('links on a national id whatever the email, and keeps every identity it matched on', async () => {
    const { store, tenantId, frontcore, springest, save } = await setup(h);
    const [a] = await save(frontcore, [{ email: 'kari@work.example', national_id: '010190 121-38', provider_user_id: '289252' }]);
    const [b] = await save(springest, [{ email: 'kari@home.example', national_id: NIN }]);
    expect(b).toBe(a);
    expect(await count(store, 'people')).toBe(1);
    expect(await store.people.getPersonNationalId(tenantId, a!)).toBe(NIN);

    const identities = await store.people.listIdentities(tenantId, a!);
    expect(identities.map((i) => [i.kind, i.value, i.matched_by])).toEqual([
      ['national_id', null, 'created'],
      ['email', 'kari@work.example', 'created'],
      ['provider_user', '289252', 'created'],
      ['email', 'kari@home.example', 'national_id'],
    ]);
    // The number itself is nowhere in the identities or people tables.
    expect(JSON.stringify(await h.rows(store, 'person_identities'))).not.toContain(NIN);
    expect(JSON.stringify(await h.rows(store, 'people'))).not.toContain(NIN);
  });

  it('links a provider user id only within its own source', async () => {
    const { store, frontcore, springest, save } = await setup(h);
    const [a] = await save(frontcore, [{ provider_user_id: '1001', email: 'a@example.com' }]);
    const [b] = await save(frontcore, [{ provider_user_id: '1001' }]);
    const [c] = await save(springest, [{ provider_user_id: '1001' }]);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(await count(store, 'people')).toBe(2);
  });

  it('keeps same name + same date of birth with different emails as two people, with an open suggestion', async () => {
    const { store, tenantId, frontcore, springest, save } = await setup(h);
    const kari = { first_name: 'Kari', last_name: 'Nordmann', date_of_birth: '1990-01-15' };
    const [a] = await save(frontcore, [{ ...kari, email: 'kari@one.example' }]);
    const [b] = await save(springest, [{ ...kari, first_name: 'KARI ', email: 'kari@two.example' }]);
    expect(b).not.toBe(a);
    const suggestions = await store.suggestions.listSuggestions(tenantId);
    expect(suggestions).toHaveLength(1);
    expect(suggestions[0]).toMatchObject({ reason: 'same_name_dob', status: 'open' });
    expect(new Set([suggestions[0]!.person_a, suggestions[0]!.person_b])).toEqual(new Set([a, b]));

    // Seeing both again suggests nothing new; a rejected suggestion stays rejected.
    await store.suggestions.setSuggestionStatus(tenantId, suggestions[0]!.id, 'rejected');
    await save(frontcore, [{ ...kari, email: 'kari@one.example' }]);
    await save(springest, [{ ...kari, email: 'kari@two.example' }]);
    const [after] = await store.suggestions.listSuggestions(tenantId);
    expect(after).toMatchObject({ id: suggestions[0]!.id, status: 'rejected' });
    expect(await store.suggestions.listSuggestions(tenantId)).toHaveLength(1);
    expect(await count(store, 'people')).toBe(2);
  });

  it('keeps near-duplicates apart: same name with another date of birth is another person, and not suggested', async () => {
    const { store, tenantId, frontcore, save } = await setup(h);
    const [a] = await save(frontcore, [{ first_name: 'Ola', last_name: 'Hansen', date_of_birth: '1985-03-01', email: 'ola1@example.com' }]);
    const [b] = await save(frontcore, [{ first_name: 'Ola', last_name: 'Hansen', date_of_birth: '1985-03-02', email: 'ola2@example.com' }]);
    // Name + date of birth alone never links either.
    const [c] = await save(frontcore, [{ first_name: 'Ola', last_name: 'Hansen', date_of_birth: '1985-03-01' }]);
    expect(new Set([a, b, c]).size).toBe(3);
    const suggestions = await store.suggestions.listSuggestions(tenantId);
    expect(suggestions.map((s) => [s.reason, new Set([s.person_a, s.person_b])])).toEqual([['same_name_dob', new Set([a, c])]]);
  });

  it('does not link on an email whose person has another date of birth or national id; suggests the pair instead', async () => {
    const { store, tenantId, frontcore, springest, save } = await setup(h);
    const [a] = await save(frontcore, [{ email: 'family@example.com', first_name: 'Per', last_name: 'Berg', date_of_birth: '1960-05-05' }]);
    const [b] = await save(springest, [{ email: 'family@example.com', first_name: 'Per', last_name: 'Berg', date_of_birth: '1992-07-07' }]);
    expect(b).not.toBe(a);
    expect(await store.suggestions.listSuggestions(tenantId)).toEqual([
      expect.objectContaining({ reason: 'conflicting_dob', status: 'open' }),
    ]);
    // The email stays with the first person only.
    expect((await store.people.listIdentities(tenantId, b!)).map((i) => i.kind)).toEqual(['name_dob']);

    const [c] = await save(frontcore, [{ email: 'nin@example.com', national_id: NIN }]);
    const [d] = await save(springest, [{ email: 'nin@example.com', national_id: OTHER_NIN }]);
    expect(d).not.toBe(c);
    expect((await store.suggestions.listSuggestions(tenantId)).map((s) => s.reason)).toEqual(['conflicting_dob', 'conflicting_national_id']);
    expect(await store.people.getPersonNationalId(tenantId, d!)).toBe(OTHER_NIN);
  });

  it('learns a date of birth later, and then refuses a conflicting one', async () => {
    const { store, tenantId, frontcore, save } = await setup(h);
    const [a] = await save(frontcore, [{ email: 'anna@example.com' }]);
    const [b] = await save(frontcore, [{ email: 'anna@example.com', date_of_birth: '1999-09-09' }]);
    expect(b).toBe(a);
    expect((await store.people.getPerson(tenantId, a!))?.date_of_birth).toBe('1999-09-09');
    const [c] = await save(frontcore, [{ email: 'anna@example.com', date_of_birth: '1999-09-10' }]);
    expect(c).not.toBe(a);
  });

  it('names a person first seen without a name from a later certificate, and never renames them', async () => {
    const { store, tenantId, frontcore, springest, save } = await setup(h);
    const [a] = await save(springest, [{ email: 'jan@example.com' }]);
    expect((await store.people.getPerson(tenantId, a!))?.display_name).toBeNull();
    const [b] = await save(frontcore, [{ email: 'Jan@example.com', first_name: 'Jan Erik', last_name: 'Sæther' }]);
    expect(b).toBe(a);
    expect((await store.people.getPerson(tenantId, a!))?.display_name).toBe('Jan Erik Sæther');
    await save(frontcore, [{ email: 'jan@example.com', first_name: 'J.', last_name: 'Sæther' }]);
    expect((await store.people.getPerson(tenantId, a!))?.display_name).toBe('Jan Erik Sæther');
  });

  it('moves a certificate whose subject the provider corrected to another known person, and keeps it otherwise', async () => {
    const { store, frontcore, save } = await setup(h);
    const [ann] = await save(frontcore, [{ email: 'ann@example.com' }]);
    const [bob] = await save(frontcore, [{ email: 'bob@example.com' }]);
    const cert = sampleCertificate(500, { subject: { ...blank, email: 'ann@example.com' } });
    const resolvePeople = createPersonResolver();
    const personOf = async () =>
      (await databaseOf(store).selectFrom('certificates').select('person_id').where('external_id', '=', 'ext-500').executeTakeFirstOrThrow()).person_id;
    await store.certificates.savePage(frontcore, [cert], null, { resolvePeople });
    expect(await personOf()).toBe(ann);
    // A status change keeps the link.
    await store.certificates.savePage(frontcore, [{ ...cert, status: 'revoked' }], null, { resolvePeople });
    expect(await personOf()).toBe(ann);
    // The provider now says it is Bob's.
    await store.certificates.savePage(frontcore, [{ ...cert, subject: { ...blank, email: 'Bob@example.com' } }], null, { resolvePeople });
    expect(await personOf()).toBe(bob);
    expect(await count(store, 'people')).toBe(2);
  });

  it('resolves a page of 1000 certificates of 400 people into 400 people with their identities, suggesting nothing', async () => {
    const { store, frontcore, resolvePeople } = await setup(h);
    const page = Array.from({ length: 1000 }, (_, i) =>
      sampleCertificate(i, {
        subject: { ...blank, email: `p${i % 400}@example.com`, provider_user_id: `u${i % 400}`, first_name: 'A', last_name: `B${i % 400}`, date_of_birth: '1990-01-01' },
      }),
    );
    await store.certificates.savePage(frontcore, page, { p: 1 }, { resolvePeople });
    expect(await count(store, 'people')).toBe(400);
    expect(await count(store, 'person_identities')).toBe(1200);
    expect(await count(store, 'person_suggestions')).toBe(0);

    const identitiesBefore = await h.rows(store, 'person_identities');
    expect(await store.certificates.savePage(frontcore, page, { p: 2 }, { resolvePeople })).toEqual({
      created: 0,
      updated: 0,
      unchanged: 1000,
    });
    expect(await h.rows(store, 'person_identities')).toEqual(identitiesBefore);
  });

  it('links a merged-away person\'s identities to the person they were merged into, and to them again after an unmerge', async () => {
    const { store, tenantId, frontcore, springest, save } = await setup(h);
    const [into] = await save(frontcore, [{ email: 'kari@one.example', first_name: 'Kari', last_name: 'Nordmann', date_of_birth: '1990-01-15' }]);
    const [from] = await save(springest, [{ email: 'kari@two.example', provider_user_id: 's-9', first_name: 'Kari', last_name: 'Nordmann', date_of_birth: '1990-01-15' }]);
    expect(from).not.toBe(into);
    const merge = await store.merges.mergePeople(tenantId, into!, from!);

    expect(await save(springest, [{ email: 'KARI@two.example' }])).toEqual([into]);
    expect(await save(springest, [{ provider_user_id: 's-9' }])).toEqual([into]);
    // Same name and birthday again: the survivor holds it, nobody new is suggested.
    const suggestionsBefore = await count(store, 'person_suggestions');
    await save(frontcore, [{ email: 'kari@one.example', first_name: 'Kari', last_name: 'Nordmann', date_of_birth: '1990-01-15' }]);
    expect(await count(store, 'person_suggestions')).toBe(suggestionsBefore);

    // An identity that reached the merged-away person anyway (a sync racing the merge) counts for the survivor.
    await databaseOf(store).updateTable('person_identities').set({ person_id: from! }).where('value', '=', 'kari@two.example').execute();
    expect(await save(springest, [{ email: 'kari@two.example', date_of_birth: '1990-01-15' }])).toEqual([into]);
    await databaseOf(store).updateTable('person_identities').set({ person_id: into! }).where('value', '=', 'kari@two.example').execute();

    await store.merges.unmergePeople(tenantId, { mergeId: merge.id });
    expect(await save(springest, [{ email: 'kari@two.example' }])).toEqual([from]);
    expect(await save(frontcore, [{ email: 'kari@one.example' }])).toEqual([into]);
    expect(await count(store, 'people')).toBe(2);
  });

  it('links certificates saved before resolution existed when they are seen again', async () => {
    const { store, frontcore, resolvePeople } = await setup(h);
    const page = [sampleCertificate(1), sampleCertificate(2)];
    await store.certificates.savePage(frontcore, page, null);
    const before = await h.rows(store, 'certificates');
    expect(before.every((r) => r.person_id === null)).toBe(true);
    expect(await store.certificates.savePage(frontcore, page, null, { resolvePeople })).toEqual({ created: 0, updated: 0, unchanged: 2 });
    const after = await h.rows(store, 'certificates');
    expect(after.every((r) => r.person_id !== null)).toBe(true);
  });
});
