/**
 * Issue 16: webhook endpoints over HTTP, on a running hub that delivers (its worker inside, as in `certhub serve`), to
 * a receiver on loopback that verifies every request with the `standardwebhooks` package.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../hub.ts';
import { createPersonResolver } from '../../identity/resolver.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../outbound/webhook-receiver.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../../providers/http/egress.ts';
import { createStore, DEFAULT_TENANT_SLUG, type Store } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { createTestClock } from '../../test-clock.testkit.ts';
import { callJson, until } from '../http-json.testkit.ts';

const clock = createTestClock();

describe('webhook endpoints over HTTP (a hub that delivers)', () => {
  let store: Store;
  let open: RunningHub;
  let strict: RunningHub;
  let receiver: WebhookReceiver;
  let auth: Record<string, string>;
  let tenantId = '';

  beforeAll(async () => {
    store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
    await store.migrate();
    const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
    tenantId = tenant.id;
    const key = await store.apiKeys.createKey(tenant.id, { name: 'hooks', role: 'admin' });
    auth = { authorization: `Bearer ${key.secret}` };
    const common = { store, logger: pino({ level: 'silent' }), host: '127.0.0.1', port: 0, webRoot: null, schedule: false, rateLimit: null, now: clock.now, metricsToken: 'metrics-token' } as const;
    // The default policy (public addresses only), not delivering; and one that allows private addresses and delivers.
    strict = await startHub({ ...common, deliver: false });
    open = await startHub({ ...common, outbound: ALLOW_PRIVATE_EGRESS });
    receiver = await startWebhookReceiver({ now: clock.now });
  });
  afterAll(async () => {
    await strict?.stop();
    await open?.stop();
    await receiver?.close();
    await store?.close();
  });

  const call = (hub: RunningHub, method: string, path: string, body?: unknown) => callJson(hub.url, method, path, auth, body);

  it('refuses an endpoint on a loopback address by default, in every spelling, and accepts it with outbound.allow_private', async () => {
    const port = new URL(receiver.url).port;
    for (const host of ['127.0.0.1', '[::1]', '2130706433', '0x7f000001', 'localhost']) {
      const url = `http://${host}:${port}/hooks`;
      const refused = await call(strict, 'POST', '/v1/webhooks', { url });
      expect(refused.status, url).toBe(400);
      expect(refused.body.error.code).toBe('invalid_request');
      expect(refused.body.error.message).toContain('outbound.allow_private');
      const accepted = await call(open, 'POST', '/v1/webhooks', { url, enabled: false });
      expect(accepted.status, url).toBe(201);
      expect(await call(open, 'DELETE', `/v1/webhooks/${accepted.body.id as string}`)).toMatchObject({ status: 204 });
    }
    // A cloud metadata address stays refused with allow_private: only outbound.allow can let it through.
    const metadata = await call(open, 'POST', '/v1/webhooks', { url: 'http://169.254.169.254/latest/meta-data' });
    expect(metadata.status).toBe(400);
    expect(metadata.body.error.message).toContain('only an entry in outbound.allow');
    // Changing an endpoint's URL to one the policy refuses is refused the same way, and changes nothing.
    const made = await call(strict, 'POST', '/v1/webhooks', { url: 'https://93.184.215.14/hooks', enabled: false });
    expect(made.status).toBe(201);
    const moved = await call(strict, 'PATCH', `/v1/webhooks/${made.body.id as string}`, { url: `http://127.0.0.1:${port}/x` });
    expect(moved.status).toBe(400);
    expect((await call(strict, 'GET', `/v1/webhooks/${made.body.id as string}`)).body.url).toBe('https://93.184.215.14/hooks');
    for (const bad of ['ftp://example.com/x', 'https://user:pw@example.com/x', 'https://example.com/x#frag', 'not a url']) {
      const res = await call(strict, 'POST', '/v1/webhooks', { url: bad });
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    await call(strict, 'DELETE', `/v1/webhooks/${made.body.id as string}`);
  });

  it('delivers a test event and a synced change signed, logs each delivery, redelivers with the same webhook-id, rotates the secret, stops at 410', async () => {
    const created = await call(open, 'POST', '/v1/webhooks', { url: receiver.url, description: 'HR system' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body.secret).toMatch(/^whsec_/);
    receiver.secrets = [created.body.secret as string];
    const listed = await call(open, 'GET', '/v1/webhooks');
    expect(listed.body.items).toEqual([expect.objectContaining({ id, description: 'HR system', enabled: true, event_types: [] })]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    expect((await call(open, 'GET', `/v1/webhooks/${id}/secret`)).body.secret).toBe(created.body.secret);

    // A test event.
    const test = await call(open, 'POST', `/v1/webhooks/${id}/test`);
    expect(test.status).toBe(202);
    await until('the test event', () => receiver.effects.has(test.body.event_id as string));
    expect(receiver.effects.get(test.body.event_id as string)!.event).toMatchObject({ type: 'webhook.test', data: { endpoint_id: id } });

    // A change a sync commits reaches the endpoint as an event of its own.
    const source = await store.sources.upsertSourceFromConfig(tenantId, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    await store.certificates.savePage(source.id, [sampleCertificate(1)], null, { now: clock.now(), resolvePeople: createPersonResolver() });
    await until('certificate.created', () => [...receiver.effects.values()].some((d) => d.event.type === 'certificate.created'));
    const createdEvent = [...receiver.effects.values()].find((d) => d.event.type === 'certificate.created')!;
    const cert = await call(open, 'GET', `/v1/certificates/${createdEvent.event.data.certificate_id as string}`);
    expect(cert.status).toBe(200);

    // The delivery log: both delivered on the first attempt, with the answer's status and a latency.
    await until('the log to show both delivered', async () => {
      const log = await call(open, 'GET', `/v1/webhooks/${id}/deliveries`);
      return (log.body.items as { status: string }[]).filter((d) => d.status === 'succeeded').length === 2;
    });
    const log = await call(open, 'GET', `/v1/webhooks/${id}/deliveries`);
    for (const d of log.body.items as Record<string, unknown>[]) {
      expect(d).toMatchObject({ endpoint_id: id, status: 'succeeded', attempts: 1, last_status_code: 204, last_error: null });
      expect(d.last_latency_ms).toEqual(expect.any(Number));
    }
    const page = await call(open, 'GET', `/v1/webhooks/${id}/deliveries?limit=1`);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.next_cursor).not.toBeNull();

    // Redelivery: the same webhook-id on the wire again; the receiver's effects do not double.
    const effectsBefore = receiver.effects.size;
    const wireBefore = receiver.deliveries.length;
    const again = await call(open, 'POST', `/v1/webhook-deliveries/${test.body.id as string}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body.event_id).toBe(test.body.event_id);
    expect(again.body.id).not.toBe(test.body.id);
    await until('the redelivery', () => receiver.deliveries.length > wireBefore);
    expect(receiver.deliveries.at(-1)!.id).toBe(test.body.event_id);
    expect(receiver.effects.size).toBe(effectsBefore);

    // Rotation: a new secret; for a day both are signed with, so a receiver that still knows only the old one verifies.
    const rotated = await call(open, 'POST', `/v1/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(rotated.body.previous_secret_until).not.toBeNull();
    const afterRotation = await call(open, 'POST', `/v1/webhooks/${id}/test`);
    await until('the test after rotation', () => receiver.effects.has(afterRotation.body.event_id as string));
    expect(receiver.effects.get(afterRotation.body.event_id as string)!.signature.split(' ')).toHaveLength(2);
    receiver.secrets = [rotated.body.secret as string];

    // 410 Gone: the endpoint is disabled with the reason, and gets nothing more until it is enabled again.
    receiver.mode = { kind: 'status', status: 410 };
    const gone = await call(open, 'POST', `/v1/webhooks/${id}/test`);
    await until('the endpoint to be disabled', async () => (await call(open, 'GET', `/v1/webhooks/${id}`)).body.enabled === false);
    const disabled = await call(open, 'GET', `/v1/webhooks/${id}`);
    expect(disabled.body.disabled_reason).toContain('410');
    const failed = await call(open, 'GET', `/v1/webhooks/${id}/deliveries?status=failed`);
    expect(failed.body.items).toEqual([expect.objectContaining({ id: gone.body.id, last_status_code: 410 })]);
    const refused = await call(open, 'POST', `/v1/webhooks/${id}/test`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('410');
    const wire = receiver.requests.length;
    await store.certificates.savePage(source.id, [sampleCertificate(2)], null, { now: clock.now(), resolvePeople: createPersonResolver() });
    expect((await call(open, 'POST', `/v1/webhooks/${id}/replay`)).status).toBe(409);

    // Enabled again, a replay sends the one failed event once (a second replay finds nothing left to send).
    receiver.mode = { kind: 'ok' };
    const enabled = await call(open, 'PATCH', `/v1/webhooks/${id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
    const replay = await call(open, 'POST', `/v1/webhooks/${id}/replay`, {});
    expect(replay.status).toBe(202);
    expect((replay.body.items as { event_id: string }[]).map((d) => d.event_id)).toEqual([gone.body.event_id]);
    await until('the replayed event', () => receiver.effects.has(gone.body.event_id as string));
    expect((await call(open, 'POST', `/v1/webhooks/${id}/replay`)).body.items).toEqual([]);
    // A disabled endpoint is not queued for: the change made meanwhile was never sent to it, then or now.
    const changed = await call(open, 'GET', `/v1/certificates?limit=10`);
    expect(changed.body.items).toHaveLength(2);
    const later = await call(open, 'POST', `/v1/webhooks/${id}/test`);
    await until('a test after re-enabling', () => receiver.effects.has(later.body.event_id as string));
    expect([...receiver.effects.values()].filter((d) => d.event.type === 'certificate.created')).toHaveLength(1);
    expect(receiver.requests.length).toBe(wire + 2);
    expect(receiver.rejected).toEqual([]);

    // /metrics counts the attempts by outcome: the 410 gave up at once, the rest arrived.
    const metrics = await (await fetch(`${open.url}/metrics`, { headers: { authorization: 'Bearer metrics-token' } })).text();
    const count = (outcome: string) => Number(new RegExp(`certhub_webhook_attempts_total\\{outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect(count('failed')).toBe(1);
    expect(count('succeeded')).toBe(receiver.deliveries.length);

    expect((await call(open, 'DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await call(open, 'GET', `/v1/webhooks/${id}`)).status).toBe(404);
  });
});
