import { expect, it } from 'vitest';
import { createPersonResolver } from '../identity/index.ts';
import type { Store } from './index.ts';
import { describeEachDialect, sampleCertificate, type StoreHarness } from './dialects.testkit.ts';
import { databaseOf } from './database.testkit.ts';

async function setup(h: StoreHarness) {
  const store = await h.open();
  const a = await store.tenants.createTenant({ slug: 'acme', name: 'Acme' });
  const b = await store.tenants.createTenant({ slug: 'globex', name: 'Globex' });
  const source = (tenantId: string, slug: string) =>
    store.sources.upsertSourceFromConfig(tenantId, { slug, provider: 'frontcore', settings: { base_url: 'http://x' }, credentials: { api_key: 'k-123456' } });
  return { store, a, b, source };
}

/** Rows of each table that belong to the source (certificate_versions through its certificates). */
async function rowsOf(store: Store, sourceId: string): Promise<Record<string, number>> {
  const count = async (table: 'certificates' | 'achievements' | 'sync_checkpoints' | 'sync_runs' | 'sync_scans' | 'sync_locks' | 'person_identities') =>
    (await databaseOf(store).selectFrom(table).select('source_id').where('source_id', '=', sourceId).execute()).length;
  const versions = await databaseOf(store)
    .selectFrom('certificate_versions')
    .select('id')
    .where('certificate_id', 'in', databaseOf(store).selectFrom('certificates').select('id').where('source_id', '=', sourceId))
    .execute();
  return {
    sources: (await databaseOf(store).selectFrom('sources').select('id').where('id', '=', sourceId).execute()).length,
    certificates: await count('certificates'),
    certificate_versions: versions.length,
    achievements: await count('achievements'),
    sync_checkpoints: await count('sync_checkpoints'),
    sync_runs: await count('sync_runs'),
    sync_scans: await count('sync_scans'),
    sync_locks: await count('sync_locks'),
    person_identities: await count('person_identities'),
  };
}

async function fill(store: Store, sourceId: string) {
  const resolvePeople = createPersonResolver();
  await store.certificates.savePage(sourceId, [sampleCertificate(1), sampleCertificate(2)], { page: 1 }, {
    resolvePeople,
    catalog: [{ type: 'course', external_id: 'C-1', title: 'Course', code: null }],
  });
  await store.certificates.savePage(sourceId, [sampleCertificate(1, { status: 'revoked' })], { page: 2 }, { resolvePeople });
  const run = await store.sync.startRun(sourceId);
  await store.sync.finishRun(run.id, { status: 'succeeded' });
  await store.scans.begin(sourceId, { started_at: '2024-06-01T00:00:00.000Z', run_id: run.id });
  await store.locks.acquire(sourceId, 'dead:1:x', 1);
}

describeEachDialect('deleting sources', (h) => {
  it('refuses to delete a source with certificates unless purged, then deletes everything of it in one go', async () => {
    const { store, a, source } = await setup(h);
    const main = await source(a.id, 'frontcore-main');
    const other = await source(a.id, 'frontcore-other');
    await fill(store, main.id);
    await fill(store, other.id);
    const before = await rowsOf(store, main.id);
    expect(before).toMatchObject({ sources: 1, certificates: 2, certificate_versions: 3, achievements: 2, sync_runs: 1, sync_scans: 1, sync_locks: 1 });
    expect(before.person_identities).toBeGreaterThan(0);

    await expect(store.sources.deleteSource(a.id, main.id)).rejects.toMatchObject({
      code: 'conflict',
      message: 'source frontcore-main has 2 certificate(s); delete with purge to delete them with it',
    });
    expect(await rowsOf(store, main.id)).toEqual(before);

    expect(await store.sources.deleteSource(a.id, main.id, { purge: true })).toEqual({ certificates: 2 });
    expect(Object.values(await rowsOf(store, main.id)).every((n) => n === 0)).toBe(true);
    // The tenant's other source is untouched.
    expect(await rowsOf(store, other.id)).toEqual(before);
  });

  it('deletes a source without certificates at once; another tenant or an unknown id is not_found; a live run blocks it', async () => {
    const { store, a, b, source } = await setup(h);
    const empty = await source(a.id, 'empty');
    const theirs = await source(b.id, 'empty');
    await expect(store.sources.deleteSource(a.id, theirs.id, { purge: true })).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.sources.deleteSource(a.id, 'nope')).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.sources.getSource(theirs.tenant_id, theirs.id)).not.toBeNull();

    await store.locks.acquire(empty.id, 'live:1:x', 60_000);
    await store.locks.setRun(empty.id, 'live:1:x', 'run-9');
    await expect(store.sources.deleteSource(a.id, empty.id)).rejects.toMatchObject({
      code: 'conflict',
      message: 'source empty is syncing (run run-9); delete it once the run ends',
    });
    await store.locks.release(empty.id, 'live:1:x');
    expect(await store.sources.deleteSource(a.id, empty.id)).toEqual({ certificates: 0 });
    expect(await store.sources.getSource(empty.tenant_id, empty.id)).toBeNull();
  });

  it('counts certificates per source and lists every tenant’s sources', async () => {
    const { store, a, b, source } = await setup(h);
    const main = await source(a.id, 'main');
    await source(a.id, 'none');
    const theirs = await source(b.id, 'main');
    await fill(store, main.id);
    await fill(store, theirs.id);
    expect([...(await store.sources.countCertificatesBySource(a.id))]).toEqual([[main.id, 2]]);
    const all = await store.sources.listAllSourcesForScheduler();
    expect(all.map((s) => `${s.tenant_id === a.id ? 'acme' : 'globex'}/${s.slug}`).sort()).toEqual(['acme/main', 'acme/none', 'globex/main']);
  });
});

describeEachDialect('sync runs by tenant', (h) => {
  it('lists only the tenant’s runs, newest first, filtered, page by page with a cursor', async () => {
    const { store, a, b, source } = await setup(h);
    const one = await source(a.id, 'one');
    const two = await source(a.id, 'two');
    const theirs = await source(b.id, 'one');
    const t = (n: number) => ({ now: new Date(Date.UTC(2024, 5, 1, 10, n)) });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await store.sync.startRun(i % 2 === 0 ? one.id : two.id, t(i));
      if (i < 4) await store.sync.finishRun(run.id, { status: i === 1 ? 'failed' : 'succeeded', error: i === 1 ? 'boom' : null });
      ids.push(run.id);
    }
    // Two runs in the same instant still page without loss or repeat.
    ids.push((await store.sync.startRun(one.id, t(4))).id);
    const foreign = await store.sync.startRun(theirs.id, t(9));

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof store.sync.listTenantRuns>> = await store.sync.listTenantRuns(a.id, { limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect(seen).not.toContain(foreign.id);
    expect(seen.slice(2)).toEqual([ids[3], ids[2], ids[1], ids[0]]);

    const failed = await store.sync.listTenantRuns(a.id, { status: 'failed' });
    expect(failed.items.map((r) => [r.id, r.source, r.provider, r.error])).toEqual([[ids[1], 'two', 'frontcore', 'boom']]);
    expect((await store.sync.listTenantRuns(a.id, { sourceId: two.id })).items.map((r) => r.id)).toEqual([ids[3], ids[1]]);
    expect((await store.sync.listTenantRuns(a.id, { sourceId: theirs.id })).items).toEqual([]);

    expect(await store.sync.getTenantRun(a.id, ids[0]!)).toMatchObject({ id: ids[0], source: 'one', status: 'succeeded' });
    expect(await store.sync.getTenantRun(a.id, foreign.id)).toBeNull();
    await expect(store.sync.listTenantRuns(a.id, { cursor: 'garbage' })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});
