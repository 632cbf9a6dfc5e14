/**
 * The push worker's answers to a platform that misbehaves, with the Springest push capability's calls replaced by
 * scripted ones (the store, the worker, the source and its session are real): a create with no answer is looked for
 * before anything is sent again; looks that fail are waited out until the verify window ends; a refusal fails the
 * push with the platform's words after a few tries.
 */
import { expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { createPersonResolver } from '../identity/resolver.ts';
import { createSourceConnector } from '../providers/connector.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';
import type { AnyProvider } from '../providers/provider.ts';
import type { PushCapability, PushLook } from '../providers/push.ts';
import { findProvider } from '../providers/registry.ts';
import { makeCertificatePdf } from '../simulators/common/pdf.ts';
import { describeEachDialect, sampleCertificate } from '../store/dialects.testkit.ts';
import type { Store } from '../store/index.ts';
import { createTestClock, type TestClock } from '../test-clock.testkit.ts';
import { createPushWorker, type PushWorker } from './push-worker.ts';

interface Script {
  create: () => Promise<{ remote_id: string; visible: boolean }>;
  look: () => Promise<PushLook>;
}

async function setup(store: Store, clock: TestClock, script: Script): Promise<{ worker: PushWorker; pushId: () => Promise<string>; calls: { create: number; look: number } }> {
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  const fc = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
  const sp = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'sp', provider: 'springest', settings: { base_url: 'http://127.0.0.1:9' }, credentials: { api_key: 'k' } });
  await store.certificates.savePage(fc.id, [sampleCertificate(1)], null, { now: clock.now(), resolvePeople: createPersonResolver() });
  const cert = (await store.certificates.listCertificates(tenant.id)).items[0]!;
  await store.files.setCertificateFile(tenant.id, cert.id, await store.files.putBlob(makeCertificatePdf(['x']), 'application/pdf'));
  await store.pushes.createRule(
    tenant.id,
    { name: 'r', match: { achievement: { external_id: 'SAFE-101' } }, target_source_id: sp.id, target: { certification_id: '42', verify_within_days: 2 }, target_key: 'certification:42' },
    { now: clock.now() },
  );
  const calls = { create: 0, look: 0 };
  const real = findProvider('springest')!;
  const push: PushCapability<unknown> = {
    ...(real.push as PushCapability<unknown>),
    create: () => {
      calls.create += 1;
      return script.create();
    },
    look: () => {
      calls.look += 1;
      return script.look();
    },
  };
  const scripted: AnyProvider = { ...real, push };
  const worker = createPushWorker({
    store,
    connector: createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS }),
    now: clock.now,
    random: () => 0.5,
    findProvider: (id) => (id === 'springest' ? scripted : findProvider(id)),
  });
  return { worker, calls, pushId: async () => (await store.pushes.listPushes(tenant.id)).items[0]!.id };
}

/** One pass once the next action is due. */
async function nextPass(store: Store, worker: PushWorker, clock: TestClock): Promise<number> {
  const due = await store.pushes.nextDue();
  if (due !== null && Date.parse(due) > clock.nowMs()) clock.advance(Date.parse(due) - clock.nowMs() + 1);
  return worker.runOnce();
}

describeEachDialect('push worker against a misbehaving platform', (h) => {
  it('a create whose answer never came is looked for first, and found, not posted again', async () => {
    const clock = createTestClock();
    const store = await h.open();
    let created = false;
    const { worker, calls, pushId } = await setup(store, clock, {
      create: () => {
        created = true;
        return Promise.reject(new AppError('provider_unavailable', 'POST /users/certificates failed: the connection was reset'));
      },
      look: () => Promise.resolve(created ? { kind: 'found', remote_id: 'sp-7' } : { kind: 'absent' }),
    });
    const tenantId = (await store.tenants.getTenantBySlug('default'))!.id;
    await nextPass(store, worker, clock);
    const inDoubt = (await store.pushes.getPush(tenantId, await pushId()))!;
    expect(inDoubt).toMatchObject({ state: 'pushing', remote_id: null });
    expect(inDoubt.last_error).toMatch(/connection was reset/);
    await nextPass(store, worker, clock);
    expect(await store.pushes.getPush(tenantId, await pushId())).toMatchObject({ state: 'pushed', remote_id: 'sp-7' });
    expect(calls).toEqual({ create: 1, look: 1 });
  });

  it('looks that fail are waited out, more often than a delivery is retried, until the verify window ends', async () => {
    const clock = createTestClock();
    const store = await h.open();
    const { worker, calls, pushId } = await setup(store, clock, {
      create: () => Promise.resolve({ remote_id: 'sp-9', visible: false }),
      look: () => Promise.reject(new AppError('provider_unavailable', 'GET /users/certificates failed after 4 attempts: HTTP 503')),
    });
    const tenantId = (await store.tenants.getTenantBySlug('default'))!.id;
    await nextPass(store, worker, clock);
    for (let i = 0; i < 15; i++) await nextPass(store, worker, clock);
    const waiting = (await store.pushes.getPush(tenantId, await pushId()))!;
    expect(waiting).toMatchObject({ state: 'awaiting_verification', remote_id: 'sp-9' });
    expect(waiting.action?.last_error).toMatch(/could not look: GET \/users\/certificates failed after 4 attempts/);
    expect(calls.look).toBe(15);
    // Past the two days of the rule's verify window: failed, saying why.
    for (let i = 0; i < 60 && (await store.pushes.getPush(tenantId, await pushId()))!.state !== 'failed'; i++) await nextPass(store, worker, clock);
    const failed = (await store.pushes.getPush(tenantId, await pushId()))!;
    expect(failed.state).toBe('failed');
    expect(failed.last_error).toMatch(/^not visible at Springest by .*: could not look/);
    expect(calls.create).toBe(1);
  });

  it("a refusal fails the push with the platform's words after three tries, nothing left in doubt", async () => {
    const clock = createTestClock();
    const store = await h.open();
    const { worker, calls, pushId } = await setup(store, clock, {
      create: () =>
        Promise.reject(new AppError('provider_error', 'POST /users/certificates returned HTTP 400', { details: { status: 400, body: '{"error":"valid_until is required for this certification"}' } })),
      look: () => Promise.resolve({ kind: 'absent' }),
    });
    const tenantId = (await store.tenants.getTenantBySlug('default'))!.id;
    for (let i = 0; i < 3; i++) await nextPass(store, worker, clock);
    const failed = (await store.pushes.getPush(tenantId, await pushId()))!;
    expect(failed.state).toBe('failed');
    expect(failed.last_error).toContain('valid_until is required for this certification');
    expect(failed.action).toMatchObject({ status: 'failed' });
    expect(calls).toEqual({ create: 3, look: 0 });
    expect(await store.pushes.nextDue()).toBeNull();
  });

  it('Springest cannot revoke: a revoked original leaves its copy (said so), and awarded again it is found, not posted twice', async () => {
    const clock = createTestClock();
    const store = await h.open();
    let visible = false;
    const { worker, calls, pushId } = await setup(store, clock, {
      create: () => Promise.resolve({ remote_id: 'sp-3', visible: false }),
      look: () => Promise.resolve(visible ? { kind: 'found', remote_id: 'sp-3' } : { kind: 'hidden', reason: 'not verified yet' }),
    });
    const tenantId = (await store.tenants.getTenantBySlug('default'))!.id;
    const fc = (await store.sources.getSourceBySlug(tenantId, 'fc'))!;
    await nextPass(store, worker, clock);
    await nextPass(store, worker, clock);
    expect((await store.pushes.getPush(tenantId, await pushId()))?.state).toBe('awaiting_verification');
    await store.certificates.savePage(fc.id, [sampleCertificate(1, { status: 'revoked' })], null, { now: clock.now(), resolvePeople: createPersonResolver() });
    await worker.runOnce();
    const left = (await store.pushes.getPush(tenantId, await pushId()))!;
    expect(left).toMatchObject({ desired: 'revoked', state: 'cancelled', remote_id: 'sp-3' });
    expect(left.last_error).toMatch(/Springest has no way to revoke .* remove sp-3 there by hand/);
    visible = true;
    await store.certificates.savePage(fc.id, [sampleCertificate(1)], null, { now: clock.now(), resolvePeople: createPersonResolver() });
    await worker.runOnce();
    expect(await store.pushes.getPush(tenantId, await pushId())).toMatchObject({ desired: 'present', state: 'pushed', remote_id: 'sp-3', last_error: null });
    expect(calls.create).toBe(1);
  });
});
