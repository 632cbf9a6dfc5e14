/** Finding 14 (issue 13): every ciphertext is bound to its row; v1 rows are upgraded by migration 0006. */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { expectAppError } from '../errors.testkit.ts';
import { createPersonResolver } from '../identity/resolver.ts';
import { createSecretBox } from '../secrets.ts';
import { legacyEncrypt } from '../secrets-legacy.testkit.ts';
import { databaseOf } from './database.testkit.ts';
import { describeEachDialect, sampleCertificate } from './dialects.testkit.ts';
import type { Store } from './index.ts';
import { certificateNationalIdPlace } from './secret-places.ts';

// Valid fødselsnummer (mod-11 control digits right), as in identity.test.ts.
const NIN = '01019012138';
const OTHER_NIN = '41019012040';
const T1 = new Date('2024-06-01T10:00:00.000Z');


/** The tables migrations after 0006 create, newest first. */
const TABLES_AFTER_0006 = ['push_pacing', 'pushes', 'push_rules', 'event_notices', 'outbox', 'events', 'webhook_endpoints'];
/** What migrating such a database applies. */
const FROM_0006 = ['0006_bound_ciphertexts', '0007_outbox', '0008_pushes'];

const MOVED = /not encrypted for this row \(copied from another row\?\)/;

async function twoTenants(store: Store) {
  const a = (await store.tenants.getTenantBySlug('default'))!;
  const b = await store.tenants.createTenant({ slug: 'globex', name: 'Globex' });
  const source = (tenantId: string, slug: string, apiKey: string) =>
    store.sources.upsertSourceFromConfig(tenantId, { slug, provider: 'frontcore', settings: {}, credentials: { api_key: apiKey } });
  return {
    a,
    b,
    sourceA: await source(a.id, 'fc-a', 'key-of-a'),
    sourceA2: await source(a.id, 'fc-a2', 'key-of-a2'),
    sourceB: await source(b.id, 'fc-b', 'key-of-b'),
  };
}

/** Copies one column's value from one row to another, as someone with write access to the database could. */
async function copyColumn(store: Store, table: 'sources' | 'people', column: 'credentials_ciphertext' | 'national_id_ciphertext', from: string, to: string) {
  const db = databaseOf(store);
  const row = (await db.selectFrom(table).selectAll().where('id', '=', from).executeTakeFirstOrThrow()) as Record<string, unknown>;
  await db.updateTable(table).set({ [column]: row[column] }).where('id', '=', to).execute();
}

describeEachDialect('bound ciphertexts', (h) => {
  it('finding 14: a credential ciphertext copied from source A into source B fails to decrypt, with a clear error', async () => {
    const store = await h.open();
    const { a, b, sourceA, sourceA2, sourceB } = await twoTenants(store);
    expect(await store.sources.getSourceCredentials(a.id, sourceA2.id)).toEqual({ api_key: 'key-of-a2' });

    // Same tenant, another source.
    await copyColumn(store, 'sources', 'credentials_ciphertext', sourceA.id, sourceA2.id);
    await expectAppError(
      store.sources.getSourceCredentials(a.id, sourceA2.id),
      'secret_key_invalid',
      new RegExp(`sources\\.credentials of tenant_id ${a.id}, source_id ${sourceA2.id}: .*${MOVED.source}`),
    );
    // Another tenant's source.
    await copyColumn(store, 'sources', 'credentials_ciphertext', sourceA.id, sourceB.id);
    await expectAppError(store.sources.getSourceCredentials(b.id, sourceB.id), 'secret_key_invalid', MOVED);
    // The original still reads; re-applying the config repairs nothing silently: it refuses too.
    expect(await store.sources.getSourceCredentials(a.id, sourceA.id)).toEqual({ api_key: 'key-of-a' });
    await expectAppError(
      store.sources.upsertSourceFromConfig(a.id, { slug: 'fc-a2', provider: 'frontcore', settings: {}, credentials: { api_key: 'key-of-a' } }),
      'secret_key_invalid',
      MOVED,
    );
  });

  it('finding 14: a national id ciphertext copied to another person (same tenant or another) fails to decrypt', async () => {
    const store = await h.open();
    const { a, b } = await twoTenants(store);
    const kari = await store.people.createPerson(a.id, { display_name: 'Kari', national_id: NIN });
    const ola = await store.people.createPerson(a.id, { display_name: 'Ola', national_id: OTHER_NIN });
    const per = await store.people.createPerson(b.id, { display_name: 'Per', national_id: OTHER_NIN });
    expect(await store.people.getPersonNationalId(a.id, ola.id)).toBe(OTHER_NIN);

    await copyColumn(store, 'people', 'national_id_ciphertext', kari.id, ola.id);
    await expectAppError(
      store.people.getPersonNationalId(a.id, ola.id),
      'secret_key_invalid',
      new RegExp(`people\\.national_id of tenant_id ${a.id}, person_id ${ola.id}: .*${MOVED.source}`),
    );
    await copyColumn(store, 'people', 'national_id_ciphertext', kari.id, per.id);
    await expectAppError(store.people.getPersonNationalId(b.id, per.id), 'secret_key_invalid', MOVED);
    expect(await store.people.getPersonNationalId(a.id, kari.id)).toBe(NIN);

    // A certificate's subject national id is bound to the certificate: moved into a person's row it does not read either.
    const source = await store.sources.upsertSourceFromConfig(a.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    await store.certificates.savePage(source.id, [sampleCertificate(1, { subject: { ...sampleCertificate(1).subject, national_id: NIN } })], null, {
      now: T1,
    });
    const db = databaseOf(store);
    const cert = await db.selectFrom('certificates').select('subject_national_id_ciphertext').executeTakeFirstOrThrow();
    await db.updateTable('people').set({ national_id_ciphertext: cert.subject_national_id_ciphertext }).where('id', '=', kari.id).execute();
    await expectAppError(store.people.getPersonNationalId(a.id, kari.id), 'secret_key_invalid', MOVED);
  });

  it('finding 14: people the resolver creates or fills, and people a merge fills, get ciphertexts of their own', async () => {
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    const withNin = (n: number, nin: string) =>
      sampleCertificate(n, { subject: { ...sampleCertificate(n).subject, date_of_birth: null, national_id: nin } });
    await store.certificates.savePage(source.id, [withNin(1, NIN)], null, { now: T1, resolvePeople: createPersonResolver() });
    const db = databaseOf(store);
    const cert = await db.selectFrom('certificates').select(['person_id', 'subject_national_id_ciphertext']).executeTakeFirstOrThrow();
    const person = (await store.people.getPerson(tenant.id, cert.person_id!))!;
    expect(await store.people.getPersonNationalId(tenant.id, person.id)).toBe(NIN);
    const personRow = await db.selectFrom('people').select('national_id_ciphertext').where('id', '=', person.id).executeTakeFirstOrThrow();
    expect(personRow.national_id_ciphertext).not.toBe(cert.subject_national_id_ciphertext);
    expect(
      createSecretBox(h.key).decrypt(cert.subject_national_id_ciphertext!, certificateNationalIdPlace(tenant.id, source.id, 'ext-1')),
    ).toBe(NIN);

    // A person first known without a national id, then filled from a later certificate on the same email.
    const plain = (n: number) => sampleCertificate(n, { subject: { ...sampleCertificate(n).subject, email: 'later@example.com', date_of_birth: null } });
    await store.certificates.savePage(source.id, [plain(2)], null, { now: T1, resolvePeople: createPersonResolver() });
    await store.certificates.savePage(source.id, [{ ...plain(3), subject: { ...plain(3).subject, national_id: OTHER_NIN } }], null, {
      now: T1,
      resolvePeople: createPersonResolver(),
    });
    const later = await db.selectFrom('certificates').select('person_id').where('external_id', '=', 'ext-3').executeTakeFirstOrThrow();
    expect(await store.people.getPersonNationalId(tenant.id, later.person_id!)).toBe(OTHER_NIN);

    // Merging a person without a national id with one who has it: the survivor's copy is its own.
    const into = await store.people.createPerson(tenant.id, { display_name: 'Survivor' });
    await store.merges.mergePeople(tenant.id, into.id, person.id);
    expect(await store.people.getPersonNationalId(tenant.id, into.id)).toBe(NIN);
  });

  /**
   * A database as certhub wrote it before 0006: every ciphertext v1 (no associated data) and 0006 not yet recorded.
   * Returns what each row must still read as.
   */
  async function writeLegacyRows(store: Store) {
    const db = databaseOf(store);
    const { a, b, sourceA, sourceA2, sourceB } = await twoTenants(store);
    const kari = await store.people.createPerson(a.id, { display_name: 'Kari', national_id: NIN });
    const per = await store.people.createPerson(b.id, { display_name: 'Per', national_id: OTHER_NIN });
    const subject = { ...sampleCertificate(1).subject, national_id: NIN };
    await store.certificates.savePage(sourceA.id, [sampleCertificate(1, { subject })], null, { now: T1 });
    await store.certificates.savePage(sourceA.id, [sampleCertificate(1, { subject, serial: 'changed' })], null, { now: T1 });
    const v1 = (plain: string) => legacyEncrypt(h.key, plain);
    await db.updateTable('sources').set({ credentials_ciphertext: v1('{"api_key":"key-of-a"}') }).where('id', '=', sourceA.id).execute();
    await db.updateTable('sources').set({ credentials_ciphertext: v1('{"api_key":"key-of-a2"}') }).where('id', '=', sourceA2.id).execute();
    await db.updateTable('sources').set({ credentials_ciphertext: v1('{"api_key":"key-of-b"}') }).where('id', '=', sourceB.id).execute();
    await db.updateTable('people').set({ national_id_ciphertext: v1(NIN) }).where('id', '=', kari.id).execute();
    await db.updateTable('people').set({ national_id_ciphertext: v1(OTHER_NIN) }).where('id', '=', per.id).execute();
    await db.updateTable('certificates').set({ subject_national_id_ciphertext: v1(NIN) }).execute();
    await db.updateTable('certificate_versions').set({ subject_national_id_ciphertext: v1(NIN) }).execute();
    await db.updateTable('meta').set({ value: v1('certhub secret key check v1') }).where('key', '=', 'secret_key_check').execute();
    // Back to the schema before 0006: the migrations after it undone too (their tables dropped), as they would not exist yet.
    await sql`delete from kysely_migration where name >= '0006'`.execute(db);
    for (const table of TABLES_AFTER_0006) await db.schema.dropTable(table).execute();
    return { a, b, sourceA, sourceB, kari, per };
  }

  const CIPHERTEXT_COLUMNS = async (store: Store) => {
    const db = databaseOf(store);
    return [
      ...(await db.selectFrom('sources').select('credentials_ciphertext as c').where('credentials_ciphertext', 'is not', null).execute()),
      ...(await db.selectFrom('people').select('national_id_ciphertext as c').execute()),
      ...(await db.selectFrom('certificates').select('subject_national_id_ciphertext as c').execute()),
      ...(await db.selectFrom('certificate_versions').select('subject_national_id_ciphertext as c').execute()),
      ...(await db.selectFrom('meta').select('value as c').where('key', '=', 'secret_key_check').execute()),
    ].map((r) => r.c);
  };

  it('finding 14: v1 rows written the old way are re-encrypted by migration 0006 and still read correctly', async () => {
    const old = await h.open();
    const { a, b, sourceA, sourceB, kari, per } = await writeLegacyRows(old);
    await old.close();
    expect((await CIPHERTEXT_COLUMNS(await h.open({ migrate: false }))).every((c) => c?.startsWith('v1.'))).toBe(true);

    const store = await h.open({ migrate: false });
    // Before the upgrade a v1 row is refused, not read without its binding.
    await expectAppError(store.sources.getSourceCredentials(a.id, sourceA.id), 'secret_key_invalid', /v1 format .*certhub migrate/);
    expect(await store.migrate()).toEqual({ applied: FROM_0006 });
    const upgraded = await CIPHERTEXT_COLUMNS(store);
    expect(upgraded).toHaveLength(9);
    expect(upgraded.every((c) => c?.startsWith('v2.'))).toBe(true);

    expect(await store.sources.getSourceCredentials(a.id, sourceA.id)).toEqual({ api_key: 'key-of-a' });
    expect(await store.sources.getSourceCredentials(b.id, sourceB.id)).toEqual({ api_key: 'key-of-b' });
    expect(await store.people.getPersonNationalId(a.id, kari.id)).toBe(NIN);
    expect(await store.people.getPersonNationalId(b.id, per.id)).toBe(OTHER_NIN);
    const box = createSecretBox(h.key);
    const place = certificateNationalIdPlace(a.id, sourceA.id, 'ext-1');
    const db = databaseOf(store);
    for (const r of [
      ...(await db.selectFrom('certificates').select('subject_national_id_ciphertext as c').execute()),
      ...(await db.selectFrom('certificate_versions').select('subject_national_id_ciphertext as c').execute()),
    ]) {
      expect(box.decrypt(r.c!, place)).toBe(NIN);
    }
    // Bound now: the upgraded credentials of A moved into B's row are refused.
    await copyColumn(store, 'sources', 'credentials_ciphertext', sourceA.id, sourceB.id);
    await expectAppError(store.sources.getSourceCredentials(b.id, sourceB.id), 'secret_key_invalid', MOVED);

    // Idempotent, and the upgraded key check still opens the store (and refuses another key).
    expect(await store.migrate()).toEqual({ applied: [] });
    expect(await (await h.open()).migrate()).toEqual({ applied: [] });
    await expectAppError(h.open({ secretKey: Buffer.alloc(32, 7), migrate: false }), 'secret_key_invalid', /not the key/);
  });

  it('finding 14: an upgrade interrupted part-way changes nothing; run again it completes', async () => {
    const old = await h.open();
    const { a, sourceA, kari } = await writeLegacyRows(old);
    // The last row the upgrade reaches cannot be decrypted (a token of another key): it fails after re-encrypting the rest.
    const db = databaseOf(old);
    const lastVersion = await db.selectFrom('certificate_versions').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
    const good = await db.selectFrom('certificate_versions').select('subject_national_id_ciphertext as c').where('id', '=', lastVersion.id).executeTakeFirstOrThrow();
    await db
      .updateTable('certificate_versions')
      .set({ subject_national_id_ciphertext: legacyEncrypt(Buffer.alloc(32, 1), NIN) })
      .where('id', '=', lastVersion.id)
      .execute();
    const before = await CIPHERTEXT_COLUMNS(old);
    await old.close();

    const store = await h.open({ migrate: false });
    await expectAppError(store.migrate(), 'internal', /database migration 0006_bound_ciphertexts failed/);
    expect(await CIPHERTEXT_COLUMNS(store)).toEqual(before);
    const recorded = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(databaseOf(store));
    expect(recorded.rows.map((r) => r.name)).not.toContain('0006_bound_ciphertexts');

    await databaseOf(store).updateTable('certificate_versions').set({ subject_national_id_ciphertext: good.c }).where('id', '=', lastVersion.id).execute();
    expect(await store.migrate()).toEqual({ applied: FROM_0006 });
    expect((await CIPHERTEXT_COLUMNS(store)).every((c) => c?.startsWith('v2.'))).toBe(true);
    expect(await store.sources.getSourceCredentials(a.id, sourceA.id)).toEqual({ api_key: 'key-of-a' });
    expect(await store.people.getPersonNationalId(a.id, kari.id)).toBe(NIN);
  });
});
