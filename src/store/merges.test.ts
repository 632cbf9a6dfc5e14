import { expect, it } from 'vitest';
import { expectAppError } from '../errors.testkit.ts';
import type { Store } from './index.ts';
import { describeEachDialect, sampleCertificate, type StoreHarness } from './dialects.testkit.ts';
import { databaseOf } from './database.testkit.ts';

const NIN = '01019012138';

async function setup(h: StoreHarness) {
  const store = await h.open();
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  const other = await store.tenants.createTenant({ slug: 'other', name: 'Other' });
  const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
  const otherSource = await store.sources.upsertSourceFromConfig(other.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
  let n = 0;
  /** Stores certificates of the source (no resolver) and links them to the person. */
  const giveCertificates = async (tenantId: string, sourceId: string, personId: string, count: number, now?: Date) => {
    const certs = Array.from({ length: count }, () => sampleCertificate(++n));
    await store.certificates.savePage(sourceId, certs, null, now === undefined ? {} : { now });
    const rows = await databaseOf(store)
      .selectFrom('certificates')
      .select('id')
      .where('source_id', '=', sourceId)
      .where(
        'external_id',
        'in',
        certs.map((c) => c.external_id),
      )
      .execute();
    for (const r of rows) await store.people.linkCertificateToPerson(tenantId, r.id, personId, now === undefined ? {} : { now });
    return rows.map((r) => r.id);
  };
  return { store, tenantId: tenant.id, otherId: other.id, source: source.id, otherSource: otherSource.id, giveCertificates };
}

/** Everything a merge may touch, as the database holds it, without the timestamps a merge and an unmerge move. */
async function snapshot(h: StoreHarness, store: Store) {
  const strip = (rows: Record<string, unknown>[]) =>
    rows
      .map(({ updated_at: _u, ...rest }) => rest)
      .sort((x, y) => String(x.id).localeCompare(String(y.id)));
  return {
    people: strip(await h.rows(store, 'people')),
    person_identities: strip(await h.rows(store, 'person_identities')),
    certificates: strip(await h.rows(store, 'certificates')),
    person_suggestions: strip(await h.rows(store, 'person_suggestions')),
  };
}

describeEachDialect('people search', (h) => {
  it('finds people by part of a name in any case, part of an email, or an exact national id; never merged-away people', async () => {
    const { store, tenantId, otherId, source, giveCertificates } = await setup(h);
    const kari = await store.people.createPerson(tenantId, { display_name: 'Kari Nordmann', national_id: '010190 121-38' });
    await store.people.addIdentity(kari.tenant_id, kari.id, { kind: 'email', value: 'kari.n@work.example', matched_by: 'email' });
    await giveCertificates(tenantId, source, kari.id, 2);
    const ola = await store.people.createPerson(tenantId, { display_name: 'Ola 100%_Hansen' });
    await store.people.addIdentity(ola.tenant_id, ola.id, { kind: 'email', value: 'ola@home.example', matched_by: 'email' });
    await store.people.createPerson(otherId, { display_name: 'Kari Nordmann', national_id: NIN });

    const ids = async (q: string) => (await store.people.searchPeople(tenantId, { q })).items.map((p) => p.id);
    expect(await ids('nordMANN')).toEqual([kari.id]);
    expect(await ids('KARI.N@')).toEqual([kari.id]);
    expect(await ids('home.example')).toEqual([ola.id]);
    expect(await ids('010190 12138')).toEqual([kari.id]);
    expect(await ids('0101901213')).toEqual([]);
    // LIKE wildcards in the query are plain characters.
    expect(await ids('100%_')).toEqual([ola.id]);
    expect(await ids('%')).toEqual([ola.id]);
    expect(await ids('')).toEqual([kari.id, ola.id]);

    const [found] = (await store.people.searchPeople(tenantId, { q: 'kari' })).items;
    expect(found).toMatchObject({ display_name: 'Kari Nordmann', has_national_id: true, emails: ['kari.n@work.example'], certificate_count: 2 });
    expect(JSON.stringify(found)).not.toContain('12138');

    await store.merges.mergePeople(tenantId, ola.id, kari.id);
    expect(await ids('nordmann')).toEqual([]);
    expect(await ids('kari.n@')).toEqual([ola.id]);
    expect(await ids(NIN)).toEqual([ola.id]);
  });

  it('pages through everyone once, in name order', async () => {
    const { store, tenantId } = await setup(h);
    const names = ['Eve', 'Bob', 'Dan', 'Ann', 'Cid', 'Bob'];
    for (const display_name of names) await store.people.createPerson(tenantId, { display_name });
    await store.people.createPerson(tenantId, {});
    const seen: (string | null)[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<Store['people']['searchPeople']>> = await store.people.searchPeople(tenantId, { limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((p) => p.display_name));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual([null, 'Ann', 'Bob', 'Bob', 'Cid', 'Dan', 'Eve']);
    await expectAppError(store.people.searchPeople(tenantId, { cursor: 'nonsense' }), 'invalid_request');
  });
});

describeEachDialect('suggestion pages', (h) => {
  it('pages through suggestions oldest first, each once, filtered by status', async () => {
    const { store, tenantId } = await setup(h);
    const people = [];
    for (let i = 0; i < 4; i++) people.push(await store.people.createPerson(tenantId, { display_name: `P${i}` }));
    const ids = people.map((p) => p.id).sort();
    const at = (m: number) => new Date(Date.UTC(2024, 0, 1, 0, m)).toISOString();
    await databaseOf(store)
      .insertInto('person_suggestions')
      .values([
        { id: 'x3', tenant_id: tenantId, person_a: ids[0]!, person_b: ids[1]!, reason: 'same_name_dob', status: 'open', created_at: at(2), updated_at: at(2) },
        { id: 'x1', tenant_id: tenantId, person_a: ids[0]!, person_b: ids[2]!, reason: 'same_name_dob', status: 'open', created_at: at(1), updated_at: at(1) },
        { id: 'x2', tenant_id: tenantId, person_a: ids[1]!, person_b: ids[2]!, reason: 'shared_email', status: 'rejected', created_at: at(1), updated_at: at(1) },
        { id: 'x4', tenant_id: tenantId, person_a: ids[2]!, person_b: ids[3]!, reason: 'same_name_dob', status: 'open', created_at: at(3), updated_at: at(3) },
      ])
      .execute();
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<Store['suggestions']['listSuggestionPage']>> = await store.suggestions.listSuggestionPage(tenantId, { limit: 3, cursor });
      all.push(...page.items.map((s) => s.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(all).toEqual(['x1', 'x2', 'x3', 'x4']);
    expect((await store.suggestions.listSuggestionPage(tenantId, { status: 'open' })).items.map((s) => s.id)).toEqual(['x1', 'x3', 'x4']);
    expect((await store.suggestions.listSuggestionPage(tenantId, { status: 'rejected' })).items.map((s) => s.id)).toEqual(['x2']);
  });
});

describeEachDialect('merging people', (h) => {
  it('moves identities and certificates in one go, fills what the survivor lacks, settles their suggestion, and unmerges exactly', async () => {
    const { store, tenantId, source, giveCertificates } = await setup(h);
    const t0 = new Date('2024-03-01T10:00:00Z');
    const into = await store.people.createPerson(tenantId, { display_name: 'Kari Nordmann' });
    const from = await store.people.createPerson(tenantId, { display_name: 'Kari Nordmann', date_of_birth: '1990-01-01', national_id: NIN });
    const third = await store.people.createPerson(tenantId, { display_name: 'Kari N.' });
    await store.people.addIdentity(into.tenant_id, into.id, { kind: 'email', value: 'kari@one.example', matched_by: 'created' });
    await store.people.addIdentity(into.tenant_id, into.id, { kind: 'name_dob', value: 'kari nordmann|1990-01-01', matched_by: 'created' });
    await store.people.addIdentity(from.tenant_id, from.id, { kind: 'email', value: 'kari@two.example', matched_by: 'created' });
    await store.people.addIdentity(from.tenant_id, from.id, { kind: 'provider_user', value: '77', source_id: source, matched_by: 'created' });
    await store.people.addIdentity(from.tenant_id, from.id, { kind: 'name_dob', value: 'kari nordmann|1990-01-01', matched_by: 'created' });
    const intoCerts = await giveCertificates(tenantId, source, into.id, 1, t0);
    const fromCerts = await giveCertificates(tenantId, source, from.id, 2, t0);
    await databaseOf(store)
      .insertInto('person_suggestions')
      .values([
        { id: 's1', tenant_id: tenantId, person_a: [into.id, from.id].sort()[0]!, person_b: [into.id, from.id].sort()[1]!, reason: 'same_name_dob', status: 'open', created_at: t0.toISOString(), updated_at: t0.toISOString() },
        { id: 's2', tenant_id: tenantId, person_a: [from.id, third.id].sort()[0]!, person_b: [from.id, third.id].sort()[1]!, reason: 'shared_email', status: 'open', created_at: t0.toISOString(), updated_at: t0.toISOString() },
      ])
      .execute();
    const before = await snapshot(h, store);

    const at = new Date('2024-04-01T10:00:00Z');
    const merge = await store.merges.mergePeople(tenantId, into.id, from.id, { now: at });
    expect(merge.moved.certificate_ids.sort()).toEqual([...fromCerts].sort());
    expect(merge.moved.identity_ids).toHaveLength(3); // national id, email, provider user
    expect(merge.moved.dropped_identities.map((i) => i.kind)).toEqual(['name_dob']);
    expect(merge.moved.filled.sort()).toEqual(['date_of_birth', 'national_id']);
    expect(merge.moved.suggestion_ids).toEqual(['s1']);
    expect(JSON.stringify(await h.rows(store, 'person_merges'))).not.toContain(NIN);

    const byPerson = await store.certificates.listCertificatesByPerson(tenantId, into.id);
    expect(byPerson.map((c) => c.id).sort()).toEqual([...intoCerts, ...fromCerts].sort());
    // Moved certificates show as changed to readers; the one that stayed did not change.
    for (const c of byPerson) expect(c.updated_at).toBe(fromCerts.includes(c.id) ? at.toISOString() : t0.toISOString());
    expect((await store.people.listIdentities(into.tenant_id, into.id)).map((i) => i.kind).sort()).toEqual([
      'email',
      'email',
      'name_dob',
      'national_id',
      'provider_user',
    ]);
    expect(await store.people.listIdentities(from.tenant_id, from.id)).toEqual([]);
    expect(await store.people.getPerson(tenantId, from.id)).toMatchObject({ merged_into: into.id });
    expect(await store.people.getPerson(tenantId, into.id)).toMatchObject({ date_of_birth: '1990-01-01', has_national_id: true, merged_into: null });
    expect(await store.people.getPersonNationalId(tenantId, into.id)).toBe(NIN);
    expect((await store.suggestions.getSuggestion(tenantId, 's1'))?.status).toBe('merged');
    // The suggestion with the merged-away person is moot while the merge stands.
    expect((await store.suggestions.listSuggestionPage(tenantId, { status: 'open' })).items).toEqual([]);
    expect(await store.merges.listStandingMerges(tenantId, from.id)).toEqual([merge]);

    // A certificate that came to the survivor after the merge stays there on unmerge.
    const later = await giveCertificates(tenantId, source, into.id, 1, at);
    const undoAt = new Date('2024-05-01T10:00:00Z');
    const undone = await store.merges.unmergePeople(tenantId, { intoId: into.id, fromId: from.id }, { now: undoAt });
    expect(undone).toMatchObject({ id: merge.id, undone_at: undoAt.toISOString() });
    const after = await snapshot(h, store);
    const laterRow = after.certificates.find((c) => c.id === later[0]);
    expect(laterRow).toMatchObject({ person_id: into.id });
    expect({ ...after, certificates: after.certificates.filter((c) => c.id !== later[0]) }).toEqual(before);
    for (const id of fromCerts) expect((await store.certificates.getCertificate(tenantId, id))?.updated_at).toBe(undoAt.toISOString());
    expect((await store.suggestions.listSuggestionPage(tenantId, { status: 'open' })).items.map((s) => s.id)).toEqual(['s1', 's2']);
    expect(await store.merges.listStandingMerges(tenantId, from.id)).toEqual([]);

    // Undone is undone; the pair can be merged again.
    await expectAppError(store.merges.unmergePeople(tenantId, { mergeId: merge.id }), 'not_found');
    const again = await store.merges.mergePeople(tenantId, into.id, from.id);
    expect((await store.merges.unmergePeople(tenantId, { mergeId: again.id })).id).toBe(again.id);
  });

  it('refuses a person with itself, merged-away people, and other tenants\' people (leaving those untouched)', async () => {
    const { store, tenantId, otherId, source, otherSource, giveCertificates } = await setup(h);
    const a = await store.people.createPerson(tenantId, { display_name: 'A' });
    const b = await store.people.createPerson(tenantId, { display_name: 'B' });
    const c = await store.people.createPerson(tenantId, { display_name: 'C' });
    await giveCertificates(tenantId, source, b.id, 1);
    const theirs = await store.people.createPerson(otherId, { display_name: 'Theirs' });
    await store.people.addIdentity(theirs.tenant_id, theirs.id, { kind: 'email', value: 'theirs@example.com', matched_by: 'created' });
    await giveCertificates(otherId, otherSource, theirs.id, 2);
    const otherRows = async () => {
      const s = await snapshot(h, store);
      return {
        people: s.people.filter((p) => p.tenant_id === otherId),
        identities: s.person_identities.filter((p) => p.tenant_id === otherId),
        certificates: s.certificates.filter((p) => p.tenant_id === otherId),
      };
    };
    const theirsBefore = await otherRows();

    await expectAppError(store.merges.mergePeople(tenantId, a.id, a.id), 'invalid_request');
    await expectAppError(store.merges.mergePeople(tenantId, a.id, theirs.id), 'not_found');
    await expectAppError(store.merges.mergePeople(tenantId, theirs.id, a.id), 'not_found');
    await expectAppError(store.merges.mergePeople(otherId, theirs.id, a.id), 'not_found');
    await expectAppError(store.merges.mergePeople(tenantId, a.id, 'no-such-person'), 'not_found');
    expect(await otherRows()).toEqual(theirsBefore);
    expect((await store.people.getPerson(tenantId, a.id))?.merged_into).toBeNull();

    const m = await store.merges.mergePeople(tenantId, a.id, b.id);
    await expectAppError(store.merges.mergePeople(tenantId, c.id, b.id), 'conflict');
    await expectAppError(store.merges.mergePeople(tenantId, b.id, c.id), 'conflict');
    await expectAppError(store.merges.unmergePeople(otherId, { mergeId: m.id }), 'not_found');
    expect(await store.merges.getMerge(otherId, m.id)).toBeNull();

    // A chain: a into c; undoing b-into-a must wait until a is back.
    await store.merges.mergePeople(tenantId, c.id, a.id);
    expect((await store.certificates.listCertificatesByPerson(tenantId, c.id)).length).toBe(1);
    await expectAppError(store.merges.unmergePeople(tenantId, { mergeId: m.id }), 'conflict');
    await store.merges.unmergePeople(tenantId, { intoId: c.id, fromId: a.id });
    await store.merges.unmergePeople(tenantId, { mergeId: m.id });
    expect((await store.certificates.listCertificatesByPerson(tenantId, b.id)).length).toBe(1);
    expect(await otherRows()).toEqual(theirsBefore);
  });
});
