/** `certhub webhooks list|test|replay` as a user runs them, against a receiver on loopback that verifies with standardwebhooks. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersonResolver } from '../../identity/index.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../outbound/webhook-receiver.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../../providers/http/egress.ts';
import { createWebhookWorker } from '../../outbound/webhook-worker.ts';
import { loadSecretKey } from '../../secrets.ts';
import { createStore, DEFAULT_TENANT_SLUG, type Store } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { runCli } from '../cli.testkit.ts';
import { createTestClock } from '../../test-clock.testkit.ts';

describe('certhub webhooks (the binary)', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  let endpointId = '';
  let failedEvents: string[] = [];
  /** While the setup runs the schedule out on a clock of its own, the receiver reads that clock. */
  let setupAt: number | null = null;
  const cli = (args: string[], config = 'certhub.yaml') => runCli(args, { cwd: dir, env: { CERTHUB_CONFIG: config } });
  const openStore = (): Promise<Store> =>
    createStore({ url: `sqlite:${join(dir, 'data', 'hub.db')}`, secretKey: loadSecretKey({ base64: undefined, dataDir: join(dir, 'data') }) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certhub-webhooks-'));
    // While the setup runs, its worker and the receiver read the test's clock. Afterwards the receiver checks the
    // signatures of the spawned CLI, which signs with the machine's clock like any user's (faketime moves both);
    // nothing asserted depends on the day.
    receiver = await startWebhookReceiver({ now: () => (setupAt === null ? new Date() : new Date(setupAt)) });
    writeFileSync(join(dir, 'certhub.yaml'), 'database: sqlite:./data/hub.db\noutbound:\n  allow_private: true\n');
    writeFileSync(join(dir, 'strict.yaml'), 'database: sqlite:./data/hub.db\n');
    const store = await openStore();
    await store.migrate();
    const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
    const { endpoint, secret } = await store.webhooks.createEndpoint(tenant.id, { url: receiver.url, description: 'HR system' });
    endpointId = endpoint.id;
    receiver.secrets = [secret];
    // Two certificate events that fail to arrive (the receiver answers 500) until they give up.
    const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    const clock = createTestClock();
    await store.certificates.savePage(source.id, [sampleCertificate(1), sampleCertificate(2)], null, { now: clock.now(), resolvePeople: createPersonResolver() });
    receiver.mode = { kind: 'status', status: 500, body: 'down for maintenance' };
    setupAt = clock.nowMs();
    const worker = createWebhookWorker({ store, egress: ALLOW_PRIVATE_EGRESS, now: () => new Date(setupAt!) });
    // Each pass at the instant the next attempts are due, until every attempt of the schedule is spent.
    for (let i = 0; i < 12; i++) {
      await worker.runOnce();
      const pending = await store.webhooks.listDeliveries(tenant.id, endpointId, { status: 'pending' });
      if (pending.items.length === 0) break;
      setupAt = Math.max(...pending.items.map((d) => Date.parse(d.next_attempt_at!)));
    }
    await worker.stop();
    setupAt = null;
    expect(receiver.rejected).toEqual([]);
    const failed = await store.webhooks.listDeliveries(tenant.id, endpointId, { status: 'failed' });
    failedEvents = failed.items.map((d) => d.event_id).sort();
    expect(failedEvents).toHaveLength(2);
    await store.close();
    receiver.mode = { kind: 'ok' };
  });
  afterAll(async () => {
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists endpoints with their failures, never the secret; sends a test event and says how it went', async () => {
    const list = await cli(['webhooks', 'list']);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${endpointId}  ${receiver.url}  enabled  every event  2 failed`);
    expect(list.stdout).toContain('HR system');
    expect(list.stdout).not.toContain('whsec_');
    const json = JSON.parse((await cli(['webhooks', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(json).toEqual([expect.objectContaining({ id: endpointId, url: receiver.url, enabled: true, failed_deliveries: 2 })]);
    expect(JSON.stringify(json)).not.toContain('whsec_');

    const test = await cli(['webhooks', 'test', endpointId]);
    expect(test.stderr).toBe('');
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(new RegExp(`^delivered evt_\\S+ to ${receiver.url}: HTTP 204, \\d+ ms\\n$`));
    const eventId = test.stdout.split(' ')[1]!;
    expect(receiver.effects.get(eventId)?.event.type).toBe('webhook.test');
    expect(receiver.rejected).toEqual([]);

    // The endpoint now refuses: the test fails in one line with exit 1.
    receiver.mode = { kind: 'status', status: 503, body: 'nope' };
    const failing = await cli(['webhooks', 'test', endpointId]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toBe('');
    expect(failing.stderr).toMatch(new RegExp(`^certhub: not delivered to ${receiver.url}: answered HTTP 503 after \\d+ ms; next attempt at \\S+\\n$`));
    receiver.mode = { kind: 'ok' };

    // Under the default egress policy the loopback receiver is refused at connect.
    const strict = await cli(['webhooks', 'test', endpointId], 'strict.yaml');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("certhub's egress policy refused the connection");

    const unknown = await cli(['webhooks', 'test', 'no-such-endpoint']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('certhub: webhook endpoint no-such-endpoint not found\n');
  }, 60_000);

  it('replays the failed events once each; a second replay finds none; a bad --since is one line with exit 2', async () => {
    const bad = await cli(['webhooks', 'replay', endpointId, '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('certhub: --since must be an ISO 8601 instant with a time zone, e.g. 2026-12-01T00:00:00Z\n');

    const replay = await cli(['webhooks', 'replay', endpointId, '--json']);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    const queued = JSON.parse(replay.stdout) as Array<{ event_id: string; status: string }>;
    expect(queued.map((d) => d.event_id).sort()).toEqual(failedEvents);
    expect(queued.every((d) => d.status === 'pending')).toBe(true);
    const again = await cli(['webhooks', 'replay', endpointId]);
    expect(again.stdout).toBe('no failed events to replay\n');

    // What a running hub would do: deliver them, same webhook-ids.
    const store = await openStore();
    const worker = createWebhookWorker({ store, egress: ALLOW_PRIVATE_EGRESS });
    while ((await worker.runOnce()) > 0);
    await worker.stop();
    await store.close();
    for (const id of failedEvents) expect(receiver.effects.get(id)?.event.type).toBe('certificate.created');
    const list = await cli(['webhooks', 'list']);
    expect(list.stdout).toContain('0 failed');
  }, 60_000);
});
