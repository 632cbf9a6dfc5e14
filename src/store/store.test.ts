import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { expectAppError } from '../errors.testkit.ts';
import { createIdGenerator } from './ids.ts';
import { createStore, DEFAULT_TENANT_SLUG, isTransientStoreError } from './index.ts';
import { describeEachDialect } from './dialects.testkit.ts';
import { databaseOf } from './database.testkit.ts';
import { SQLITE_BUSY_TIMEOUT_MS } from './sqlite-busy.ts';


describeEachDialect('schema and keys', (h) => {
  it('migrates once, then is idempotent, and creates the default tenant', async () => {
    const store = await h.open({ migrate: false });
    expect(store.dialect).toBe(h.dialect);
    expect(await store.migrate()).toEqual({ applied: ['0001_initial', '0002_sync_identity', '0003_hub_api', '0004_expiring_index', '0005_lock_fence', '0006_bound_ciphertexts', '0007_outbox', '0008_pushes'] });
    expect(await store.migrate()).toEqual({ applied: [] });

    const again = await h.open();
    expect(await again.migrate()).toEqual({ applied: [] });
    const tenant = await again.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG);
    expect(tenant).toMatchObject({ slug: 'default' });
    expect(await again.tenants.listTenants()).toHaveLength(1);
    await store.ping();
  });

  it('refuses a different secret key on reopen and on migrate, with a clear error', async () => {
    const store = await h.open();
    await store.close();
    const wrongKey = randomBytes(32);
    await expectAppError(
      h.open({ secretKey: wrongKey, migrate: false }),
      'secret_key_invalid',
      /CERTHUB_SECRET_KEY is not the key this data was encrypted with/,
    );
    // The right key still opens it.
    const reopened = await h.open();
    expect(await reopened.migrate()).toEqual({ applied: [] });
  });

  it('stores source credentials encrypted and returns them only through getSourceCredentials', async () => {
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const secret = 'fc-api-key-very-secret-123';
    const source = await store.sources.upsertSourceFromConfig(tenant.id, {
      slug: 'frontcore-main',
      provider: 'frontcore',
      settings: { base_url: 'https://api.frontcore.example', timezone: 'Europe/Oslo' },
      credentials: { api_key: secret },
    });
    expect(source).toMatchObject({ slug: 'frontcore-main', provider: 'frontcore', enabled: true, has_credentials: true });
    expect(JSON.stringify(source)).not.toContain(secret);
    expect(JSON.stringify(await store.sources.listSources(tenant.id))).not.toContain(secret);

    const rows = await h.rows(store, 'sources');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(String(rows[0]!.credentials_ciphertext)).toMatch(/^v2\./);
    expect(await store.sources.getSourceCredentials(source.tenant_id, source.id)).toEqual({ api_key: secret });

    // Same config again: nothing changes; new credentials: re-encrypted, updated_at moves.
    const later = new Date(Date.now() + 60_000);
    const same = await store.sources.upsertSourceFromConfig(
      tenant.id,
      { slug: 'frontcore-main', provider: 'frontcore', settings: source.settings, credentials: { api_key: secret } },
      { now: later },
    );
    expect(same.updated_at).toBe(source.updated_at);
    const rotated = await store.sources.upsertSourceFromConfig(
      tenant.id,
      { slug: 'frontcore-main', provider: 'frontcore', settings: source.settings, credentials: { api_key: 'new-key' } },
      { now: later },
    );
    expect(rotated.id).toBe(source.id);
    expect(rotated.updated_at).toBe(later.toISOString());
    expect(await store.sources.getSourceCredentials(source.tenant_id, source.id)).toEqual({ api_key: 'new-key' });

    await expectAppError(
      store.sources.upsertSourceFromConfig(tenant.id, {
        slug: 'frontcore-main',
        provider: 'springest',
        settings: {},
        credentials: null,
      }),
      'invalid_config',
    );
    await expectAppError(
      store.sources.upsertSourceFromConfig(tenant.id, { slug: 'Bad Slug', provider: 'falkor', settings: {}, credentials: null }),
      'invalid_config',
    );
  });

  it('keeps tenants apart and refuses duplicate tenant slugs', async () => {
    const store = await h.open();
    const b = await store.tenants.createTenant({ slug: 'tenant-b', name: 'B' });
    expect(await store.tenants.getTenantBySlug('tenant-b')).toEqual(b);
    expect(await store.tenants.getTenant(b.id)).toEqual(b);
    await expectAppError(store.tenants.createTenant({ slug: 'tenant-b', name: 'again' }), 'conflict');
    const a = (await store.tenants.getTenantBySlug('default'))!;
    await store.sources.upsertSourceFromConfig(b.id, { slug: 'edx', provider: 'openedx', settings: {}, credentials: null });
    expect(await store.sources.listSources(a.id)).toEqual([]);
    expect(await store.sources.getSourceBySlug(a.id, 'edx')).toBeNull();
    expect(await store.sources.getSourceBySlug(b.id, 'edx')).not.toBeNull();
  });

  it('tells a transient failure (worth another try) from one that is not, as this dialect reports them', async () => {
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const duplicate = await sql`insert into tenants (id, slug, name, created_at) values (${'t-dup'}, ${tenant.slug}, ${'dup'}, ${'2024-01-01T00:00:00.000Z'})`
      .execute(databaseOf(store))
      .then(() => null, (err: unknown) => err);
    expect(isTransientStoreError(duplicate)).toBe(true);
    const missing = await sql`select nope from tenants`.execute(databaseOf(store)).then(() => null, (err: unknown) => err);
    expect(missing).not.toBeNull();
    expect(isTransientStoreError(missing)).toBe(false);
    expect(isTransientStoreError({ code: h.dialect === 'sqlite' ? 'SQLITE_BUSY' : '40001' })).toBe(true);
    expect(isTransientStoreError(new AppError('not_found', 'no'))).toBe(false);
  });

  it('records people and identities; national ids only as HMAC and ciphertext', async () => {
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const other = await store.tenants.createTenant({ slug: 'other', name: 'Other' });
    const source = await store.sources.upsertSourceFromConfig(tenant.id, {
      slug: 'springest-nl',
      provider: 'springest',
      settings: {},
      credentials: null,
    });
    const nin = '01019012345';
    const kari = await store.people.createPerson(tenant.id, {
      display_name: 'Kari Nordmann',
      date_of_birth: '1990-01-01',
      national_id: nin,
    });
    expect(kari.has_national_id).toBe(true);
    expect(await store.people.getPersonNationalId(tenant.id, kari.id)).toBe(nin);
    expect(await store.people.getPerson(other.id, kari.id)).toBeNull();

    await store.people.addIdentity(kari.tenant_id, kari.id, { kind: 'email', value: ' Kari@Example.COM ', matched_by: 'email' });
    await store.people.addIdentity(kari.tenant_id, kari.id, {
      kind: 'provider_user',
      value: '289252',
      source_id: source.id,
      matched_by: 'provider_user',
    });
    // Idempotent for the same person.
    await store.people.addIdentity(kari.tenant_id, kari.id, { kind: 'email', value: 'kari@example.com', matched_by: 'email' });

    const find = (kind: 'email' | 'national_id' | 'provider_user' | 'name_dob', value: string, sourceId?: string | null) =>
      store.people
        .findPeopleByIdentity(tenant.id, kind, value, sourceId === undefined ? {} : { sourceId })
        .then((people) => people.map((p) => p.id));
    expect(await find('email', 'KARI@example.com')).toEqual([kari.id]);
    expect(await find('national_id', '010190 12345')).toEqual([kari.id]);
    expect(await find('provider_user', '289252', source.id)).toEqual([kari.id]);
    expect(await find('provider_user', '289252', null)).toEqual([]);
    expect(await store.people.findPeopleByIdentity(other.id, 'email', 'kari@example.com')).toEqual([]);

    const ola = await store.people.createPerson(tenant.id, { display_name: 'Ola' });
    await expectAppError(
      store.people.addIdentity(ola.tenant_id, ola.id, { kind: 'email', value: 'kari@example.com', matched_by: 'email' }),
      'conflict',
    );
    await expectAppError(store.people.createPerson(tenant.id, { national_id: nin }), 'conflict');
    // name + date of birth may be shared by two people.
    await store.people.addIdentity(kari.tenant_id, kari.id, { kind: 'name_dob', value: 'kari nordmann|1990-01-01', matched_by: 'name_dob' });
    await store.people.addIdentity(ola.tenant_id, ola.id, { kind: 'name_dob', value: 'kari nordmann|1990-01-01', matched_by: 'name_dob' });
    expect((await find('name_dob', 'kari nordmann|1990-01-01')).sort()).toEqual([kari.id, ola.id].sort());
    expect((await store.people.listIdentities(kari.tenant_id, kari.id)).map((i) => i.kind).sort()).toEqual([
      'email',
      'name_dob',
      'national_id',
      'provider_user',
    ]);

    // A national id matched later becomes the person's own when they had none.
    await store.people.addIdentity(ola.tenant_id, ola.id, { kind: 'national_id', value: '02029054321', matched_by: 'national_id' });
    expect(await store.people.getPerson(tenant.id, ola.id)).toMatchObject({ has_national_id: true });
    expect(await store.people.getPersonNationalId(tenant.id, ola.id)).toBe('02029054321');

    const everything = JSON.stringify([await h.rows(store, 'people'), await h.rows(store, 'person_identities')]);
    expect(everything).not.toContain(nin);
    expect(everything).not.toContain('02029054321');
  });

  it('keeps sync runs and checkpoints', async () => {
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const source = await store.sources.upsertSourceFromConfig(tenant.id, {
      slug: 'falkor',
      provider: 'falkor',
      settings: {},
      credentials: null,
    });
    expect(await store.sync.getCheckpoint(source.id)).toBeNull();
    await store.sync.setCheckpoint(source.id, { page: 3, since: '2024-01-01' });
    expect(await store.sync.getCheckpoint(source.id)).toEqual({ page: 3, since: '2024-01-01' });
    await store.sync.setCheckpoint(source.id, null);
    expect(await store.sync.getCheckpoint(source.id)).toBeNull();

    const t0 = new Date('2024-05-01T10:00:00Z');
    const first = await store.sync.startRun(source.id, { now: t0 });
    expect(first.status).toBe('running');
    const done = await store.sync.finishRun(first.id, { status: 'succeeded', report: { created: 2 } }, { now: t0 });
    expect(done).toMatchObject({ status: 'succeeded', report: { created: 2 }, error: null, finished_at: t0.toISOString() });
    const second = await store.sync.startRun(source.id, { now: new Date('2024-05-01T11:00:00Z') });
    await store.sync.finishRun(second.id, { status: 'failed', error: 'provider said 500' });
    expect((await store.sync.listRuns({ sourceId: source.id })).map((r) => r.id)).toEqual([second.id, first.id]);
    expect(await store.sync.getRun(second.id)).toMatchObject({ status: 'failed', error: 'provider said 500' });
    await expectAppError(store.sync.finishRun('nope', { status: 'failed' }), 'not_found');
  });
});

describe('createStore errors', () => {
  const key = randomBytes(32);

  it('creates the SQLite directory, and reports an unopenable file clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certhub-open-'));
    try {
      const store = await createStore({ url: `sqlite:${join(dir, 'a', 'b', 'certhub.db')}`, secretKey: key });
      await store.migrate();
      await store.close();

      const notADb = join(dir, 'junk.db');
      writeFileSync(notADb, 'this is not a database, just some text that is long enough to have a header'.repeat(20));
      await expectAppError(
        createStore({ url: `sqlite:${notADb}`, secretKey: key }),
        'database_unavailable',
        new RegExp(`^cannot open database sqlite:${notADb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an unreachable PostgreSQL by host:port/db, never the password', async () => {
    const err = await expectAppError(
      createStore({ url: 'postgresql://certhub:hunter2@127.0.0.1:1/certhub', secretKey: key }),
      'database_unavailable',
      /^cannot connect to PostgreSQL at 127\.0\.0\.1:1\/certhub: /,
    );
    expect(err.message).not.toContain('hunter2');
  });

  it('refuses URLs it does not know', async () => {
    await expectAppError(createStore({ url: 'mysql://x', secretKey: key }), 'invalid_config');
  });

  it('opens SQLite files in WAL mode with foreign keys on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certhub-pragma-'));
    try {
      const store = await createStore({ url: `sqlite:${join(dir, 'certhub.db')}`, secretKey: key });
      const pragma = async (name: string) => (await sql.raw(`pragma ${name}`).execute(databaseOf(store))).rows[0];
      expect(await pragma('journal_mode')).toEqual({ journal_mode: 'wal' });
      expect(await pragma('foreign_keys')).toEqual({ foreign_keys: 1 });
      // Short: a statement blocks the event loop while it waits; longer waits are asynchronous (sqlite-busy.ts).
      expect(await pragma('busy_timeout')).toEqual({ timeout: SQLITE_BUSY_TIMEOUT_MS });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in-memory SQLite works', async () => {
    const store = await createStore({ url: 'sqlite::memory:', secretKey: key });
    expect(await store.migrate()).toEqual({ applied: ['0001_initial', '0002_sync_identity', '0003_hub_api', '0004_expiring_index', '0005_lock_fence', '0006_bound_ciphertexts', '0007_outbox', '0008_pushes'] });
    await store.close();
  });
});

describe('ids', () => {
  it('sort in creation order, even within one millisecond', () => {
    const newId = createIdGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 5000 }, () => newId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
