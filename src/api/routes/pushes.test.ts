/**
 * Issue 16: push rules and pushes over HTTP, on a running hub whose push worker posts to the Springest simulator and
 * awards in the Open edX simulator (FrontCore the origin, all on one world and one pinned clock), with a webhook
 * receiver verifying the push.succeeded / push.failed events.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Certificate } from '../../domain/certificate.ts';
import { startHub, type RunningHub } from '../../hub.ts';
import { startPushWorld, type PushWorld } from '../../outbound/push.testkit.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../outbound/webhook-receiver.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../../providers/http/egress.ts';
import { createStore, type Store } from '../../store/index.ts';
import { createTestClock } from '../../test-clock.testkit.ts';
import { callJson, until, type Json } from '../http-json.testkit.ts';

const clock = createTestClock();

describe('push rules over HTTP (a hub that pushes)', () => {
  let store: Store;
  let hub: RunningHub;
  let pw: PushWorld;
  let receiver: WebhookReceiver;
  let admin: Record<string, string>;
  let reader: Record<string, string>;
  let certs: Certificate[] = [];

  beforeAll(async () => {
    store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
    await store.migrate();
    pw = await startPushWorld(store, clock);
    admin = { authorization: `Bearer ${(await store.apiKeys.createKey(pw.tenant.id, { name: 'admin', role: 'admin' })).secret}` };
    reader = { authorization: `Bearer ${(await store.apiKeys.createKey(pw.tenant.id, { name: 'reader', role: 'read' })).secret}` };
    hub = await startHub({ store, logger: pino({ level: 'silent' }), host: '127.0.0.1', port: 0, webRoot: null, schedule: false, rateLimit: null, now: clock.now, outbound: ALLOW_PRIVATE_EGRESS, metricsToken: 'metrics-token' });
    receiver = await startWebhookReceiver({ now: clock.now });
    const page = await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.fc.source.id], statuses: ['awarded'] }, { limit: 1000 });
    certs = page.items.filter((c) => c.file.available && c.subject.email !== null);
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    await receiver?.close();
    await pw?.close();
    await store?.close();
  });

  const call = (method: string, path: string, body?: unknown, auth = admin) => callJson(hub.url, method, path, auth, body);

  /** The FrontCore course with the fewest diplomas (a quick rule: Springest posts are paced at 28 a minute). */
  const smallestCourse = (): { external_id: string; certs: Certificate[] } => {
    const by = new Map<string, Certificate[]>();
    for (const c of certs) by.set(c.achievement.external_id, [...(by.get(c.achievement.external_id) ?? []), c]);
    const [external_id, list] = [...by].sort((a, b) => a[1].length - b[1].length)[0]!;
    return { external_id, certs: list };
  };

  it('refuses rules it cannot carry out, with the reason, and rule changes by a read key', async () => {
    const base = { name: 'x', match: { achievement: { source: 'fc', external_id: '1' } }, target_source: 'sp', target: { certification_id: 1 } };
    const cases: [unknown, RegExp][] = [
      [{ ...base, target_source: 'nowhere' }, /no source nowhere/],
      [{ ...base, target_source: 'fc' }, /frontcore .*takes no pushed certificates/],
      [{ ...base, target: {} }, /target\.certification_id/],
      [{ ...base, target_source: 'oe', target: { certification_id: 1 } }, /target/],
      [{ ...base, target_source: 'oe', target: { program_uuid: 'not-a-uuid' } }, /program_uuid: must be a program uuid/],
      [{ ...base, sources: ['sp'] }, /is the target itself/],
      [{ ...base, match: { requirement: 'nope' } }, /no requirement nope/],
      [{ ...base, match: { achievement: { source: 'fc' } } }, /external_id or code/],
    ];
    for (const [body, message] of cases) {
      const res = await call('POST', '/v1/push-rules', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toMatch(message);
    }
    expect((await call('POST', '/v1/push-rules', base, reader)).status).toBe(403);
    expect((await call('GET', '/v1/push-rules')).body.items).toEqual([]);
    expect(await store.pushes.listPushes(pw.tenant.id)).toMatchObject({ items: [] });
  });

  it('pushes to Springest through a rule made over HTTP, tells a webhook, shows each push, pauses and deletes the rule', { timeout: 120_000 }, async () => {
    const hook = await call('POST', '/v1/webhooks', { url: receiver.url, event_types: ['push.succeeded', 'push.failed'] });
    expect(hook.status).toBe(201);
    receiver.secrets = [hook.body.secret as string];
    const course = smallestCourse();
    const certification = pw.sp.sim.host.certifications.find((c) => c.verified && !c.requires_valid_until)!;
    const created = await call('POST', '/v1/push-rules', {
      name: 'Smallest course to Springest',
      match: { achievement: { source: 'fc', external_id: course.external_id } },
      target_source: 'sp',
      target: { certification_id: certification.id },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ target_source: 'sp', target_provider: 'springest', target_description: `certification ${certification.id}`, paused: false, origin: 'api' });
    const ruleId = created.body.id as string;
    expect((await call('GET', `/v1/push-rules/${ruleId}`, undefined, reader)).body.name).toBe('Smallest course to Springest');

    await until('every push pushed', async () => {
      const page = await call('GET', `/v1/pushes?rule_id=${ruleId}`, undefined, reader);
      const items = page.body.items as Json[];
      return items.length === course.certs.length && items.every((p) => p.state === 'pushed');
    });
    for (const cert of course.certs) {
      const mine = await call('GET', `/v1/pushes?certificate_id=${cert.id}`, undefined, reader);
      expect(mine.body.items).toHaveLength(1);
      const push = mine.body.items[0] as Json;
      expect(push).toMatchObject({ desired: 'present', state: 'pushed', target: `certification:${certification.id}`, last_error: null });
      expect(push.sent).toMatchObject({ certification_id: String(certification.id), email: cert.subject.email!.trim() });
      expect(push.action).toMatchObject({ status: 'succeeded' });
      expect((await call('GET', `/v1/pushes/${push.id as string}`)).body.remote_id).toBe(push.remote_id);
    }
    await until('a push.succeeded event per push', () => receiver.effects.size >= course.certs.length);
    expect(receiver.rejected).toEqual([]);
    const told = [...receiver.effects.values()].map((e) => e.event);
    expect(told.every((b) => b.type === 'push.succeeded' && b.data.action === 'created')).toBe(true);
    expect(new Set(told.map((b) => b.data.certificate_id as string))).toEqual(new Set(course.certs.map((c) => c.id)));

    const metrics = await (await fetch(`${hub.url}/metrics`, { headers: { authorization: 'Bearer metrics-token' } })).text();
    const succeeded = /certhub_push_steps_total\{outcome="succeeded"\} (\d+)/.exec(metrics);
    expect(Number(succeeded?.[1])).toBeGreaterThanOrEqual(course.certs.length);

    const paused = await call('PATCH', `/v1/push-rules/${ruleId}`, { paused: true });
    expect(paused).toMatchObject({ status: 200, body: { paused: true, name: 'Smallest course to Springest' } });
    expect((await call('PATCH', `/v1/push-rules/${ruleId}`, {})).status).toBe(400);
    expect((await call('DELETE', `/v1/push-rules/${ruleId}`)).status).toBe(204);
    expect((await call('GET', `/v1/push-rules/${ruleId}`)).status).toBe(404);
    // The copies stay at Springest, and their pushes in the log.
    expect((await call('GET', `/v1/pushes?rule_id=${ruleId}`)).body.items).toHaveLength(course.certs.length);
  });

  it('fails a push to Open edX with the reason when nobody knows the username; a mapping and a retry push it', { timeout: 60_000 }, async () => {
    const course = smallestCourse();
    const catalog = (await pw.control('oe', 'GET', '/catalog')) as { programs: { uuid: string }[] };
    const created = await call('POST', '/v1/push-rules', {
      name: 'To Open edX',
      match: { achievement: { source: 'fc', external_id: course.external_id } },
      sources: ['fc'],
      target_source: 'oe',
      target: { program_uuid: catalog.programs[0]!.uuid },
    });
    expect(created.status).toBe(201);
    const ruleId = created.body.id as string;
    // Open edX was never synced here: nobody is linked to an Open edX username yet.
    await until('the pushes failed', async () => {
      const page = await call('GET', `/v1/pushes?rule_id=${ruleId}&state=failed`);
      return page.body.items.length === course.certs.length;
    });
    const failed = (await call('GET', `/v1/pushes?rule_id=${ruleId}`)).body.items as Json[];
    for (const p of failed) expect(p.last_error).toMatch(/no Open edX username/);
    await until('push.failed told', () => [...receiver.effects.values()].filter((e) => e.event.type === 'push.failed').length >= failed.length);

    const usernames = Object.fromEntries(course.certs.map((c, i) => [c.subject.email!.trim(), `learner${i}`]));
    expect((await call('PATCH', `/v1/push-rules/${ruleId}`, { usernames })).status).toBe(200);
    for (const p of failed) expect((await call('POST', `/v1/pushes/${p.id as string}/retry`)).status).toBe(202);
    await until('the retried pushes pushed', async () => {
      const page = await call('GET', `/v1/pushes?rule_id=${ruleId}&state=pushed`);
      return page.body.items.length === course.certs.length;
    });
    const pushed = (await call('GET', `/v1/pushes?rule_id=${ruleId}`)).body.items as Json[];
    const truth = pw.oe.sim.truth();
    for (const p of pushed) expect(truth.find((t) => t.external_id === p.remote_id)?.status).toBe('awarded');
    expect((await call('POST', '/v1/pushes/nope/retry')).status).toBe(404);
  });
});
