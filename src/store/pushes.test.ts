/**
 * Push planning in the store (issue 16): which changes plan which pushes, in the change's own transaction, and what a
 * rule's life (paused, changed, deleted) and a source's deletion do to them.
 */
import { expect, it } from 'vitest';
import { createPersonResolver } from '../identity/resolver.ts';
import { describeEachDialect, sampleCertificate } from './dialects.testkit.ts';
import { databaseOf } from './database.testkit.ts';
import type { Store } from './index.ts';

const T = new Date('2026-06-11T10:00:00Z');

async function setup(store: Store) {
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  const fc = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
  const sp = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'sp', provider: 'springest', settings: {}, credentials: null });
  const save = (certs: ReturnType<typeof sampleCertificate>[], at = T) => store.certificates.savePage(fc.id, certs, null, { now: at, resolvePeople: createPersonResolver() });
  const rule = (over: Partial<Parameters<Store['pushes']['createRule']>[1]> = {}) =>
    store.pushes.createRule(
      tenant.id,
      { name: 'safety', match: { achievement: { source: 'fc', external_id: 'SAFE-101' } }, target_source_id: sp.id, target: { certification_id: '42' }, target_key: 'certification:42', ...over },
      { now: T },
    );
  const pushes = async () => (await store.pushes.listPushes(tenant.id, { limit: 500 })).items.sort((a, b) => a.certificate_id.localeCompare(b.certificate_id));
  const actions = () => databaseOf(store).selectFrom('outbox').select(['subject_id', 'status']).where('kind', '=', 'push').execute();
  return { tenant, fc, sp, save, rule, pushes, actions };
}

describeEachDialect('push planning', (h) => {
  it('a rule covers what is stored and what comes; an ended certificate, another course or the target itself is not pushed', async () => {
    const store = await h.open();
    const { save, rule, pushes, actions } = await setup(store);
    await save([sampleCertificate(1), sampleCertificate(2, { valid_until: '2026-01-31' }), sampleCertificate(3, { achievement: { type: 'course', external_id: 'FIRE-1', title: null, code: null } })]);
    await rule();
    // Only the awarded, still valid SAFE-101 certificate; one push, one outbox action.
    expect((await pushes()).map((p) => [p.state, p.desired, p.target_key])).toEqual([['queued', 'present', 'certification:42']]);
    expect(await actions()).toHaveLength(1);
    await save([sampleCertificate(4)]);
    expect(await pushes()).toHaveLength(2);
    // Saving the same again plans nothing more.
    await save([sampleCertificate(4)]);
    expect(await pushes()).toHaveLength(2);
    expect(await actions()).toHaveLength(2);
  });

  it('revoked, deleted or superseded originals want their copies revoked; awarded again, present; paused rules plan nothing', async () => {
    const store = await h.open();
    const { fc, save, rule, pushes, actions } = await setup(store);
    await save([sampleCertificate(1), sampleCertificate(2), sampleCertificate(3)]);
    const r = await rule();
    await databaseOf(store).updateTable('outbox').set({ status: 'succeeded' }).where('kind', '=', 'push').execute();
    await save([sampleCertificate(1, { status: 'revoked' }), sampleCertificate(2, { achievement: { type: 'course', external_id: 'FIRE-1', title: null, code: null } })]);
    expect((await pushes()).map((p) => p.desired)).toEqual(['revoked', 'revoked', 'present']);
    // Each changed push's one action is due again.
    expect((await actions()).filter((a) => a.status === 'pending')).toHaveLength(2);
    // A full scan that misses certificate 3: deleted, its copy wanted revoked too.
    await store.certificates.markMissingDeleted(fc.id, new Date(T.getTime() + 1).toISOString(), { now: new Date(T.getTime() + 2) });
    expect((await pushes()).map((p) => p.desired)).toEqual(['revoked', 'revoked', 'revoked']);
    await save([sampleCertificate(1)], new Date(T.getTime() + 3));
    expect((await pushes()).map((p) => p.desired)).toEqual(['present', 'revoked', 'revoked']);

    await store.pushes.updateRule(r.tenant_id, r.id, { paused: true }, { now: T });
    await save([sampleCertificate(9)], new Date(T.getTime() + 4));
    expect(await pushes()).toHaveLength(3);
    // Resumed: what it covers now is planned.
    await store.pushes.updateRule(r.tenant_id, r.id, { paused: false }, { now: T });
    expect(await pushes()).toHaveLength(4);
  });

  it('deleting a rule cancels its pushes not yet made; a source with certificates pushed goes with its pushes; a target of a rule stays', async () => {
    const store = await h.open();
    const { tenant, fc, sp, save, rule, pushes, actions } = await setup(store);
    await save([sampleCertificate(1), sampleCertificate(2)]);
    const r = await rule();
    await expect(store.sources.deleteSource(tenant.id, sp.id, { purge: true })).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('push rule "safety"') as string });
    await store.pushes.deleteRule(tenant.id, r.id, { now: T });
    expect((await pushes()).map((p) => p.state)).toEqual(['cancelled', 'cancelled']);
    expect((await actions()).map((a) => a.status)).toEqual(['cancelled', 'cancelled']);
    await rule({ name: 'again' });
    await store.sources.deleteSource(tenant.id, fc.id, { purge: true });
    expect(await pushes()).toEqual([]);
    expect(await actions()).toEqual([]);
  });

  it('one slot per interval and key, whoever asks', async () => {
    const store = await h.open();
    expect(await store.pushes.takeSlot('k', 2000, { now: T })).toEqual({ ok: true });
    expect(await store.pushes.takeSlot('k', 2000, { now: new Date(T.getTime() + 1999) })).toEqual({ ok: false, at: new Date(T.getTime() + 2000).toISOString() });
    expect(await store.pushes.takeSlot('other', 2000, { now: T })).toEqual({ ok: true });
    const racers = await Promise.all([0, 1, 2, 3].map(() => store.pushes.takeSlot('k', 2000, { now: new Date(T.getTime() + 2000) })));
    expect(racers.filter((r) => r.ok)).toHaveLength(1);
  });
});
