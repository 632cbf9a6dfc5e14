/** Issue 13: rotating the secret key re-encrypts every ciphertext and recomputes every national-id HMAC, all or nothing. */
import { expect, it } from 'vitest';
import { expectAppError } from '../errors.testkit.ts';
import { createPersonResolver } from '../identity/resolver.ts';
import { databaseOf } from './database.testkit.ts';
import { describeEachDialect, sampleCertificate } from './dialects.testkit.ts';
import type { Store } from './index.ts';

// Valid fødselsnummer (mod-11 control digits right), as in identity.test.ts.
const NIN = '01019012138';
const OTHER_NIN = '41019012040';
const T1 = new Date('2024-06-01T10:00:00.000Z');
const NEW_KEY = Buffer.alloc(32, 9);

/** Two tenants with credentials, people with national ids, certificates (and a second version) the resolver linked. */
async function seed(store: Store) {
  const a = (await store.tenants.getTenantBySlug('default'))!;
  const b = await store.tenants.createTenant({ slug: 'globex', name: 'Globex' });
  const sourceA = await store.sources.upsertSourceFromConfig(a.id, { slug: 'fc-a', provider: 'frontcore', settings: {}, credentials: { api_key: 'key-of-a' } });
  const sourceB = await store.sources.upsertSourceFromConfig(b.id, { slug: 'fc-b', provider: 'frontcore', settings: {}, credentials: { api_key: 'key-of-b' } });
  const per = await store.people.createPerson(b.id, { display_name: 'Per', national_id: OTHER_NIN });
  const withNin = (n: number, extra: Record<string, unknown> = {}) =>
    sampleCertificate(n, { subject: { ...sampleCertificate(n).subject, date_of_birth: null, national_id: NIN }, ...extra });
  await store.certificates.savePage(sourceA.id, [withNin(1)], null, { now: T1, resolvePeople: createPersonResolver() });
  await store.certificates.savePage(sourceA.id, [withNin(1, { serial: 'changed' })], null, { now: T1, resolvePeople: createPersonResolver() });
  const db = databaseOf(store);
  const kari = await db.selectFrom('certificates').select('person_id').executeTakeFirstOrThrow();
  const hook = await store.webhooks.createEndpoint(a.id, { url: 'https://hooks.example.com/certhub' }, { now: T1 });
  return { a, b, sourceA, sourceB, per, kariId: kari.person_id!, withNin, hook };
}

/** Every column the key touches, as stored. */
async function keyedColumns(store: Store) {
  const db = databaseOf(store);
  return {
    credentials: (await db.selectFrom('sources').select('credentials_ciphertext as c').orderBy('id').execute()).map((r) => r.c),
    people: await db.selectFrom('people').select(['national_id_ciphertext as c', 'national_id_hmac as h']).orderBy('id').execute(),
    certificates: await db
      .selectFrom('certificates')
      .select(['subject_national_id_ciphertext as c', 'subject_national_id_hmac as h'])
      .orderBy('id')
      .execute(),
    versions: await db
      .selectFrom('certificate_versions')
      .select(['subject_national_id_ciphertext as c', 'subject_national_id_hmac as h'])
      .orderBy('id')
      .execute(),
    identities: (await db.selectFrom('person_identities').select('value_hmac as h').where('value_hmac', 'is not', null).orderBy('id').execute()).map(
      (r) => r.h,
    ),
    check: (await db.selectFrom('meta').select('value').where('key', '=', 'secret_key_check').executeTakeFirstOrThrow()).value,
  };
}

describeEachDialect('secret key rotation', (h) => {
  it('re-encrypts every ciphertext and recomputes every HMAC: everything reads and matches under the new key only', async () => {
    const store = await h.open();
    const { a, b, sourceA, sourceB, per, kariId, withNin, hook } = await seed(store);
    const before = await keyedColumns(store);
    expect(before.identities.length).toBeGreaterThan(0);

    const report = await store.rotateSecretKey(NEW_KEY);
    expect(report).toEqual({ sources: 2, people: 2, certificates: 1, certificate_versions: 2, identities: before.identities.length, merges: 0, webhook_endpoints: 1 });

    // The old key no longer opens the store.
    await expectAppError(h.open({ secretKey: h.key, migrate: false }), 'secret_key_invalid', /not the key/);

    const rotated = await h.open({ secretKey: NEW_KEY });
    const after = await keyedColumns(rotated);
    // Every ciphertext and HMAC changed, and none of the old HMACs survives anywhere.
    after.credentials.forEach((c, i) => expect(c).not.toBe(before.credentials[i]));
    for (const kind of ['people', 'certificates', 'versions'] as const) {
      after[kind].forEach((r, i) => {
        expect(r.c).not.toBe(before[kind][i]!.c);
        expect(r.h).not.toBe(before[kind][i]!.h);
      });
    }
    const oldHmacs = new Set([...before.people, ...before.certificates, ...before.versions].map((r) => r.h));
    expect(after.identities.some((x) => oldHmacs.has(x))).toBe(false);
    expect(after.check).not.toBe(before.check);

    // What was stored reads back the same.
    expect(await rotated.sources.getSourceCredentials(a.id, sourceA.id)).toEqual({ api_key: 'key-of-a' });
    expect(await rotated.sources.getSourceCredentials(b.id, sourceB.id)).toEqual({ api_key: 'key-of-b' });
    expect(await rotated.people.getPersonNationalId(a.id, kariId)).toBe(NIN);
    expect(await rotated.people.getPersonNationalId(b.id, per.id)).toBe(OTHER_NIN);
    expect(await rotated.webhooks.getSecrets(a.id, hook.endpoint.id)).toMatchObject({ current: hook.secret });
    // Lookups by national id (HMACs) find the same people: a search, and the resolver linking a new certificate.
    expect((await rotated.people.searchPeople(a.id, { q: NIN })).items.map((p) => p.id)).toEqual([kariId]);
    expect((await rotated.people.searchPeople(b.id, { q: OTHER_NIN })).items.map((p) => p.id)).toEqual([per.id]);
    await rotated.certificates.savePage(sourceA.id, [withNin(7)], null, { now: T1, resolvePeople: createPersonResolver() });
    const linked = await databaseOf(rotated).selectFrom('certificates').select('person_id').where('external_id', '=', 'ext-7').executeTakeFirstOrThrow();
    expect(linked.person_id).toBe(kariId);
  });

  it('a rotation that meets a ciphertext it cannot decrypt changes nothing, and the old key still opens everything', async () => {
    const store = await h.open();
    const { a, kariId } = await seed(store);
    // A person's national id moved into another person's row (finding 14): it does not decrypt for that row.
    const db = databaseOf(store);
    const other = await store.people.createPerson(a.id, { display_name: 'Ola', national_id: OTHER_NIN });
    const kari = await db.selectFrom('people').select('national_id_ciphertext').where('id', '=', kariId).executeTakeFirstOrThrow();
    await db.updateTable('people').set({ national_id_ciphertext: kari.national_id_ciphertext }).where('id', '=', other.id).execute();
    const before = await keyedColumns(store);

    await expectAppError(store.rotateSecretKey(NEW_KEY), 'secret_key_invalid', /people\.national_id .*not encrypted for this row/);
    expect(await keyedColumns(store)).toEqual(before);
    await expectAppError(h.open({ secretKey: NEW_KEY, migrate: false }), 'secret_key_invalid', /not the key/);
    expect(await store.people.getPersonNationalId(a.id, kariId)).toBe(NIN);
  });

  it('is refused while a sync holds its lock, and a national-id HMAC no stored id gives stops it whole', async () => {
    const store = await h.open();
    const { a, sourceA, kariId } = await seed(store);
    await store.locks.acquire(sourceA.id, 'host:1:run', 60_000);
    await expectAppError(store.rotateSecretKey(NEW_KEY), 'conflict', /while a sync is running \(fc-a\): stop every certhub process first/);
    await store.locks.release(sourceA.id, 'host:1:run');

    // An identity whose national id is kept nowhere else (only its HMAC): it cannot be recomputed, so nothing moves.
    await databaseOf(store)
      .insertInto('person_identities')
      .values({
        id: 'orphan-hmac',
        tenant_id: a.id,
        person_id: kariId,
        kind: 'national_id',
        source_id: null,
        value: null,
        value_hmac: 'f'.repeat(64),
        matched_by: 'manual',
        created_at: T1.toISOString(),
      })
      .execute();
    const before = await keyedColumns(store);
    await expectAppError(store.rotateSecretKey(NEW_KEY), 'internal', /1 national-id HMAC\(s\) match no stored national id.*nothing was changed/);
    expect(await keyedColumns(store)).toEqual(before);
  });
});
