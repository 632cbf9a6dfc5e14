import { expect, it } from 'vitest';
import { insertSuggestions } from './suggestions.ts';
import { describeEachDialect, sampleCertificate, type StoreHarness } from './dialects.testkit.ts';
import { databaseOf } from './database.testkit.ts';

async function setup(h: StoreHarness) {
  const store = await h.open();
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  const source = await store.sources.upsertSourceFromConfig(tenant.id, {
    slug: 'frontcore-main',
    provider: 'frontcore',
    settings: {},
    credentials: null,
  });
  return { store, tenantId: tenant.id, sourceId: source.id };
}

describeEachDialect('sync locks, scans, suggestions', (h) => {
  it('gives a source lock to one owner at a time, renews it, and lets an expired one be taken over', async () => {
    const { store, sourceId } = await setup(h);
    // Expiry is the database's clock's (finding 9): "time passes" by moving the stored expiry into the past.
    const expire = () =>
      databaseOf(store).updateTable('sync_locks').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('source_id', '=', sourceId).execute();

    const a = await store.locks.acquire(sourceId, 'a', 60_000);
    expect(a).toMatchObject({ acquired: true, fence: { sourceId, owner: 'a', token: 1 } });
    if (!a.acquired) throw new Error('unreachable');
    expect(await store.locks.setRun(sourceId, 'a', 'run-1')).toBe(true);
    expect(await store.locks.acquire(sourceId, 'b', 60_000)).toMatchObject({
      acquired: false,
      holder: { owner: 'a', run_id: 'run-1', fence: 1 },
    });
    const held = (await store.locks.get(sourceId))!;
    expect(held.expires_at > held.acquired_at!).toBe(true);
    // Renewed: still a's.
    expect(await store.locks.renew(a.fence, 60_000)).toBe(true);
    expect((await store.locks.acquire(sourceId, 'b', 60_000)).acquired).toBe(false);
    // a stops renewing (its process died): once expired, b takes it over with the next token; a's renewal reports the loss.
    await expire();
    expect(await store.locks.acquire(sourceId, 'b', 60_000)).toMatchObject({ acquired: true, fence: { owner: 'b', token: 2 } });
    expect(await store.locks.get(sourceId)).toMatchObject({ owner: 'b', run_id: null, fence: 2 });
    expect(await store.locks.renew(a.fence, 60_000)).toBe(false);
    expect(await store.locks.setRun(sourceId, 'a', 'run-x')).toBe(false);
    // a's late release does not free b's lock; b's does.
    await store.locks.release(sourceId, 'a');
    expect((await store.locks.get(sourceId))?.owner).toBe('b');
    await store.locks.release(sourceId, 'b');
    expect(await store.locks.get(sourceId)).toBeNull();
  });

  it('marks runs left running by a dead holder as failed', async () => {
    const { store, sourceId } = await setup(h);
    const dead = await store.sync.startRun(sourceId);
    const live = await store.sync.startRun(sourceId);
    expect(await store.locks.failAbandonedRuns(sourceId, live.id, 'interrupted')).toBe(1);
    expect(await store.sync.getRun(dead.id)).toMatchObject({ status: 'failed', error: 'interrupted' });
    expect(await store.sync.getRun(live.id)).toMatchObject({ status: 'running' });
  });

  it('remembers when a full scan began until it ends', async () => {
    const { store, sourceId } = await setup(h);
    expect(await store.scans.get(sourceId)).toBeNull();
    await store.scans.begin(sourceId, { started_at: '2024-06-01T10:00:00.000Z', run_id: 'r1' });
    await store.scans.begin(sourceId, { started_at: '2024-06-02T10:00:00.000Z', run_id: 'r2' });
    expect(await store.scans.get(sourceId)).toEqual({ started_at: '2024-06-02T10:00:00.000Z', run_id: 'r2' });
    await store.scans.end(sourceId);
    expect(await store.scans.get(sourceId)).toBeNull();
  });

  it('keeps one suggestion per pair and reason, whichever way round, and lets it be rejected', async () => {
    const { store, tenantId } = await setup(h);
    const a = await store.people.createPerson(tenantId, { display_name: 'A' });
    const b = await store.people.createPerson(tenantId, { display_name: 'B' });
    const newId = (() => {
      let n = 0;
      return () => `s-${++n}`;
    })();
    await insertSuggestions(databaseOf(store), newId, [{ tenant_id: tenantId, person_a: b.id, person_b: a.id, reason: 'same_name_dob' }], '2024-01-01T00:00:00.000Z');
    await insertSuggestions(
      databaseOf(store),
      newId,
      [
        { tenant_id: tenantId, person_a: a.id, person_b: b.id, reason: 'same_name_dob' },
        { tenant_id: tenantId, person_a: a.id, person_b: a.id, reason: 'same_name_dob' },
        { tenant_id: tenantId, person_a: a.id, person_b: b.id, reason: 'conflicting_dob' },
      ],
      '2024-01-02T00:00:00.000Z',
    );
    const all = await store.suggestions.listSuggestions(tenantId);
    expect(all.map((s) => [s.person_a < s.person_b, s.reason, s.status])).toEqual([
      [true, 'same_name_dob', 'open'],
      [true, 'conflicting_dob', 'open'],
    ]);
    const rejected = await store.suggestions.setSuggestionStatus(tenantId, all[0]!.id, 'rejected');
    expect(rejected.status).toBe('rejected');
    expect(await store.suggestions.listSuggestions(tenantId, { status: 'open' })).toHaveLength(1);
    expect(await store.suggestions.listSuggestions(tenantId, { personId: a.id })).toHaveLength(2);
    await expect(store.suggestions.setSuggestionStatus(tenantId, 'nope', 'merged')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('savePage: a resolver that fails rolls the whole page back, checkpoint included', async () => {
    const { store, sourceId } = await setup(h);
    await store.certificates.savePage(sourceId, [sampleCertificate(1)], { page: 1 });
    const failing = () => Promise.reject(new Error('boom'));
    await expect(store.certificates.savePage(sourceId, [sampleCertificate(2)], { page: 2 }, { resolvePeople: failing })).rejects.toThrow('boom');
    expect(await h.rows(store, 'certificates')).toHaveLength(1);
    expect(await store.sync.getCheckpoint(sourceId)).toEqual({ page: 1 });
  });

  it('savePage: stores catalog entries and keeps what a later entry leaves out', async () => {
    const { store, sourceId } = await setup(h);
    await store.certificates.savePage(sourceId, [], null, {
      catalog: [{ type: 'program', external_id: 'P-1', title: 'Program One', code: 'P1', extra: { credits: 5 } }],
    });
    await store.certificates.savePage(sourceId, [], null, {
      catalog: [{ type: 'program', external_id: 'P-1', title: null, code: null }],
    });
    const rows = await h.rows(store, 'achievements');
    expect(rows).toEqual([expect.objectContaining({ type: 'program', external_id: 'P-1', title: 'Program One', code: 'P1', extra_json: '{"credits":5}' })]);
  });
});
