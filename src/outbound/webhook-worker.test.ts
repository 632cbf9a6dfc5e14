/** Issue 16: webhook deliveries from the outbox to a real receiver on loopback, verified with `standardwebhooks`. */
import { afterEach, expect, it, vi } from 'vitest';
import { addDays } from '../domain/requirement.ts';
import { calendarDate } from '../domain/validity.ts';
import { createPersonResolver } from '../identity/resolver.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';
import { describeEachDialect, sampleCertificate } from '../store/dialects.testkit.ts';
import { createTestClock } from '../test-clock.testkit.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.testkit.ts';
import { createWebhookWorker, MAX_ATTEMPTS, nextAttemptDelay, type WebhookWorker } from './webhook-worker.ts';

const receivers: WebhookReceiver[] = [];
const workers: WebhookWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describeEachDialect('webhook deliveries', (h) => {
  async function setup(opts: { eventTypes?: ('certificate.created' | 'certificate.revoked' | 'sync.finished')[] } = {}) {
    const clock = createTestClock();
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    const receiver = await startWebhookReceiver({ now: clock.now });
    receivers.push(receiver);
    const { endpoint, secret } = await store.webhooks.createEndpoint(
      tenant.id,
      { url: receiver.url, ...(opts.eventTypes ? { event_types: opts.eventTypes } : {}) },
      { now: clock.now() },
    );
    receiver.secrets = [secret];
    const worker = (extra: { leaseMs?: number; pollMs?: number } = {}) => {
      const w = createWebhookWorker({ store, egress: ALLOW_PRIVATE_EGRESS, now: clock.now, random: () => 0.5, timeoutMs: 2000, ...extra });
      workers.push(w);
      return w;
    };
    const save = (certs: ReturnType<typeof sampleCertificate>[]) =>
      store.certificates.savePage(source.id, certs, null, { now: clock.now(), resolvePeople: createPersonResolver() });
    return { clock, store, tenant, source, receiver, endpoint, secret, worker, save };
  }

  async function drain(worker: WebhookWorker): Promise<void> {
    while ((await worker.runOnce()) > 0);
  }

  it('a committed change reaches the receiver signed (Standard Webhooks), thin, once per event; the delivery log says how it went', async () => {
    const { store, tenant, receiver, endpoint, worker, save } = await setup();
    await save([sampleCertificate(1), sampleCertificate(2)]);
    await save([sampleCertificate(1, { status: 'revoked' }), sampleCertificate(2, { serial: 'changed' })]);
    await drain(worker());

    expect(receiver.rejected).toEqual([]);
    const types = receiver.deliveries.map((d) => d.event.type).sort();
    expect(types).toEqual(['certificate.created', 'certificate.created', 'certificate.revoked', 'certificate.updated']);
    expect(receiver.effects.size).toBe(4);
    const revoked = receiver.deliveries.find((d) => d.event.type === 'certificate.revoked')!;
    const cert = await store.certificates.getCertificate(tenant.id, revoked.event.data.certificate_id as string);
    expect(cert).toMatchObject({ external_id: 'ext-1', status: 'revoked' });
    expect(revoked.event.data).toMatchObject({ external_id: 'ext-1', status: 'revoked', provider: 'frontcore', achievement: { type: 'course' } });
    expect(revoked.id).toMatch(/^evt_/);

    const log = await store.webhooks.listDeliveries(tenant.id, endpoint.id);
    expect(log.items).toHaveLength(4);
    for (const d of log.items) {
      expect(d).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 204, last_error: null });
      expect(d.last_latency_ms).toBeGreaterThanOrEqual(0);
    }
    // Nothing is left to deliver, and a second pass sends nothing again.
    expect(await worker().runOnce()).toBe(0);
    expect(receiver.deliveries).toHaveLength(4);
  });

  it('an endpoint that is down gets everything once it is back, with backoff between attempts; each event id has one effect', async () => {
    const { clock, tenant, receiver, endpoint, worker, save, store } = await setup();
    receiver.mode = { kind: 'status', status: 503, body: 'down for maintenance' };
    await save([sampleCertificate(1), sampleCertificate(2), sampleCertificate(3)]);
    const w = worker();
    expect(await w.runOnce()).toBe(3);
    let log = await store.webhooks.listDeliveries(tenant.id, endpoint.id);
    for (const d of log.items) {
      expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503, last_error: 'answered HTTP 503', last_response: 'down for maintenance' });
      // The first retry waits 5 s (±10% jitter; the test's random is the middle).
      expect(Date.parse(d.next_attempt_at!) - Date.parse(d.last_attempt_at!)).toBe(5000);
    }
    // Not due yet: nothing is sent.
    expect(await w.runOnce()).toBe(0);

    // Down for a while: the second attempt fails too, and the next wait is 5 minutes.
    clock.advance(6000);
    expect(await w.runOnce()).toBe(3);
    log = await store.webhooks.listDeliveries(tenant.id, endpoint.id);
    expect(log.items.every((d) => d.attempts === 2 && Date.parse(d.next_attempt_at!) - Date.parse(d.last_attempt_at!) === 300_000)).toBe(true);

    receiver.mode = { kind: 'ok' };
    await save([sampleCertificate(4)]);
    expect(await w.runOnce()).toBe(1);
    clock.advance(301_000);
    await drain(w);
    expect([...receiver.effects.values()].map((d) => d.event.data.external_id).sort()).toEqual(['ext-1', 'ext-2', 'ext-3', 'ext-4']);
    expect(receiver.deliveries).toHaveLength(4);
    expect((await store.webhooks.getEndpoint(tenant.id, endpoint.id))!.failing_since).toBeNull();
  });

  it('an endpoint that has failed every attempt for 5 days is disabled with the reason, not before', async () => {
    const { tenant, receiver, endpoint, worker, save, store, clock } = await setup();
    receiver.mode = { kind: 'status', status: 500 };
    const w = worker();
    const day = 86_400_000;
    await save([sampleCertificate(1)]);
    await drain(w);
    const since = (await store.webhooks.getEndpoint(tenant.id, endpoint.id))!.failing_since;
    expect(since).not.toBeNull();
    // Four days on, still failing: still enabled, failing since the first failure.
    clock.advance(4 * day);
    await save([sampleCertificate(2)]);
    await drain(w);
    expect(await store.webhooks.getEndpoint(tenant.id, endpoint.id)).toMatchObject({ enabled: true, failing_since: since, disabled_reason: null });
    // Past five days: the next failure disables it.
    clock.advance(day + 60_000);
    await save([sampleCertificate(3)]);
    await drain(w);
    const disabled = (await store.webhooks.getEndpoint(tenant.id, endpoint.id))!;
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabled_reason).toMatch(/^every delivery failed for 5 days \(see failing_since; last: answered HTTP 500\)$/);
  });

  it('a 410 Gone disables the endpoint with the reason; nothing more is queued for it or sent to it', async () => {
    const { tenant, receiver, endpoint, worker, save, store } = await setup();
    receiver.mode = { kind: 'status', status: 410 };
    await save([sampleCertificate(1), sampleCertificate(2)]);
    const w = worker();
    await drain(w);
    const disabled = (await store.webhooks.getEndpoint(tenant.id, endpoint.id))!;
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabled_reason).toBe('the endpoint answered 410 Gone');
    const seen = receiver.requests.length;
    expect(seen).toBeGreaterThanOrEqual(1);

    receiver.mode = { kind: 'ok' };
    await save([sampleCertificate(3)]);
    expect(await w.runOnce()).toBe(0);
    expect(receiver.requests).toHaveLength(seen);
    const log = await store.webhooks.listDeliveries(tenant.id, endpoint.id);
    expect(log.items.map((d) => d.event_type)).not.toContain(undefined);
    expect(log.items.some((d) => d.status === 'failed' && d.last_error === 'the endpoint answered 410 Gone')).toBe(true);
  });

  it('a redirect is never followed; a redelivery carries the same webhook-id; a rotated secret signs alongside the new one', async () => {
    const { clock, tenant, receiver, endpoint, worker, save, store, secret } = await setup();
    receiver.mode = { kind: 'status', status: 302, headers: { location: `${receiver.url}/elsewhere` } };
    await save([sampleCertificate(1)]);
    const w = worker();
    await w.runOnce();
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hooks']);
    const [first] = (await store.webhooks.listDeliveries(tenant.id, endpoint.id)).items;
    expect(first).toMatchObject({ status: 'pending', last_status_code: 302 });
    expect(first!.last_error).toMatch(/redirect; certhub never follows them/);

    receiver.mode = { kind: 'ok' };
    clock.advance(6000);
    await drain(w);
    expect(receiver.effects.size).toBe(1);
    const again = await store.webhooks.redeliver(tenant.id, first!.id, { now: clock.now() });
    expect(again.id).not.toBe(first!.id);
    expect(again.event_id).toBe(first!.event_id);
    await drain(w);
    expect(receiver.deliveries.map((d) => d.id)).toEqual([first!.event_id, first!.event_id]);
    expect(receiver.effects.size).toBe(1);

    // Rotation: the old secret still verifies (receivers not yet switched), the new one too.
    const rotated = await store.webhooks.rotateSecret(tenant.id, endpoint.id, { now: clock.now() });
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.endpoint.previous_secret_until).not.toBeNull();
    await save([sampleCertificate(2)]);
    await drain(w);
    const last = receiver.deliveries[receiver.deliveries.length - 1]!;
    expect(last.signature.split(' ')).toHaveLength(2);
    receiver.secrets = [rotated.secret];
    await save([sampleCertificate(3)]);
    await drain(w);
    receiver.secrets = [secret];
    await save([sampleCertificate(4)]);
    await drain(w);
    expect(receiver.rejected).toEqual([]);
    expect(receiver.effects.size).toBe(4);
  });

  it('by default the egress policy refuses a loopback endpoint: nothing arrives, the delivery says why and is retried', async () => {
    const { tenant, receiver, endpoint, save, store, clock } = await setup();
    await save([sampleCertificate(1)]);
    const strict = createWebhookWorker({ store, now: clock.now, random: () => 0.5 });
    workers.push(strict);
    expect(await strict.runOnce()).toBe(1);
    expect(receiver.requests).toEqual([]);
    const [d] = (await store.webhooks.listDeliveries(tenant.id, endpoint.id)).items;
    expect(d).toMatchObject({ status: 'pending', last_status_code: null });
    expect(d!.last_error).toMatch(/egress policy refused the connection/);
    expect(d!.last_error).not.toMatch(/127\.0\.0\.1|\d{4,5}/);
  });

  it('a worker that died holding a claim: once the lease runs out another worker delivers it', async () => {
    const { clock, tenant, receiver, endpoint, worker, save, store } = await setup();
    await save([sampleCertificate(1)]);
    // A claim taken and never finished (the process was killed mid-attempt).
    const dead = await store.webhooks.claimDue('dead-host:1:x', { now: clock.now(), limit: 10, leaseMs: 60_000 });
    expect(dead).toHaveLength(1);
    const w = worker();
    expect(await w.runOnce()).toBe(0);
    clock.advance(61_000);
    expect(await w.runOnce()).toBe(1);
    expect(receiver.effects.size).toBe(1);
    // The dead worker's late report changes nothing.
    expect(await store.webhooks.recordAttempt(dead[0]!.id, 'dead-host:1:x', { kind: 'failed', status_code: null, latency_ms: null, response: null, error: 'x' }, { now: clock.now() })).toBe(false);
    expect((await store.webhooks.listDeliveries(tenant.id, endpoint.id)).items[0]).toMatchObject({ status: 'succeeded' });
  });

  it('an endpoint that never answers: the attempt ends at the deadline and is retried', async () => {
    const { tenant, receiver, endpoint, worker, save, store } = await setup();
    receiver.mode = { kind: 'hang' };
    await save([sampleCertificate(1)]);
    expect(await worker().runOnce()).toBe(1);
    const [d] = (await store.webhooks.listDeliveries(tenant.id, endpoint.id)).items;
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_error: 'no answer within 2 s' });
  });

  it('two workers on one store deliver 60 events exactly once between them', async () => {
    const { receiver, worker, save } = await setup();
    await save(Array.from({ length: 60 }, (_, i) => sampleCertificate(i + 1)));
    const a = worker();
    const b = worker();
    await Promise.all([drain(a), drain(b)]);
    expect(receiver.effects.size).toBe(60);
    expect(receiver.deliveries).toHaveLength(60);
  });

  it('the running worker makes the pass of time-driven events: a certificate ending soon arrives as certificate.expiring, once', async () => {
    const { receiver, worker, save, clock } = await setup();
    const today = calendarDate(clock.now());
    await save([sampleCertificate(1, { valid_until: addDays(today, 7) }), sampleCertificate(2, { valid_until: addDays(today, 90) })]);
    const running = worker({ pollMs: 20 });
    running.start();
    await vi.waitFor(() => expect([...receiver.effects.values()].map((d) => d.event.type)).toContain('certificate.expiring'), { timeout: 15_000, interval: 50 });
    await running.stop();
    const expiring = [...receiver.effects.values()].filter((d) => d.event.type === 'certificate.expiring');
    expect(expiring).toHaveLength(1);
    expect(expiring[0]!.event.data).toMatchObject({ external_id: 'ext-1', valid_until: addDays(today, 7), status: 'awarded' });
  });

  it('only subscribed types are queued; sync runs and merges produce their events', async () => {
    const { receiver, worker, save, store, source, tenant, clock } = await setup({ eventTypes: ['sync.finished', 'certificate.revoked'] });
    await save([sampleCertificate(1)]);
    const run = await store.sync.startRun(source.id, { now: clock.now() });
    await store.sync.finishRun(run.id, { status: 'succeeded', report: { pages: 1, certificates: { created: 1, updated: 0, unchanged: 0, deleted: 0 }, warnings: [] } }, { now: clock.now() });
    // Finishing it again (a retried write) tells nobody twice.
    await store.sync.finishRun(run.id, { status: 'succeeded', report: { pages: 1 } }, { now: clock.now() });
    await drain(worker());
    expect(receiver.deliveries.map((d) => d.event.type)).toEqual(['sync.finished']);
    expect(receiver.deliveries[0]!.event.data).toMatchObject({ run_id: run.id, source: 'fc', status: 'succeeded', certificates: { created: 1 } });

    await store.webhooks.updateEndpoint(tenant.id, (await store.webhooks.listEndpoints(tenant.id))[0]!.id, { event_types: ['person.merged', 'person.unmerged'] });
    const x = await store.people.createPerson(tenant.id, { display_name: 'X' });
    const y = await store.people.createPerson(tenant.id, { display_name: 'Y' });
    const merge = await store.merges.mergePeople(tenant.id, x.id, y.id, { now: clock.now() });
    await store.merges.unmergePeople(tenant.id, { mergeId: merge.id }, { now: clock.now() });
    await drain(worker());
    expect(receiver.deliveries.slice(1).map((d) => [d.event.type, d.event.data.merge_id]).sort()).toEqual([
      ['person.merged', merge.id],
      ['person.unmerged', merge.id],
    ]);
  });
});

it('the retry schedule spans about three days, then gives up; Retry-After stretches a wait', () => {
  let total = 0;
  for (let attempts = 1; attempts < MAX_ATTEMPTS; attempts++) total += nextAttemptDelay(attempts, null, () => 0.5)!;
  expect(total / 86_400_000).toBeGreaterThan(2.9);
  expect(total / 86_400_000).toBeLessThan(3.5);
  expect(nextAttemptDelay(MAX_ATTEMPTS, null, () => 0.5)).toBeNull();
  expect(nextAttemptDelay(1, 120_000, () => 0.5)).toBe(120_000);
  expect(nextAttemptDelay(1, null, () => 0)).toBe(4500);
  expect(nextAttemptDelay(1, null, () => 1)).toBe(5500);
});
