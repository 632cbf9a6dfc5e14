/**
 * Issue 16, the outbox under crashes: a child process delivers webhooks and is SIGKILLed at random instants (mid
 * request, mid answer, mid transaction); the next child takes over the dead one's claims once their lease runs out.
 * In the end the receiver has applied every event exactly once, every delivery verified; an event came twice on the
 * wire only where a killed sender never heard the answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { createPersonResolver } from '../identity/resolver.ts';
import { databaseOf } from '../store/database.testkit.ts';
import { describeEachDialect, sampleCertificate } from '../store/dialects.testkit.ts';
import { createTestClock } from '../test-clock.testkit.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.testkit.ts';

const CHILD = fileURLToPath(new URL('./webhook-crash-child.testkit.ts', import.meta.url));
const EVENTS = 150;
const TRIALS = 8;
const BATCH = 10;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function startChild(env: Record<string, string>): { child: ChildProcess; exited: Promise<Exit> } {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

describeEachDialect('webhook deliveries under SIGKILL', (h) => {
  it('every event takes effect exactly once at the receiver, whenever the sender dies', { timeout: 180_000 }, async () => {
    const clock = createTestClock();
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    const rx = await startWebhookReceiver({ now: clock.now });
    receiver = rx;
    rx.delayMs = 15;
    const { secret } = await store.webhooks.createEndpoint(tenant.id, { url: rx.url, event_types: ['certificate.created'] }, { now: clock.now() });
    rx.secrets = [secret];
    await store.certificates.savePage(
      source.id,
      Array.from({ length: EVENTS }, (_, i) => sampleCertificate(i)),
      null,
      { now: clock.now(), resolvePeople: createPersonResolver() },
    );
    const where = h.location();
    const env = () => ({
      CRASH_DB_URL: where.url,
      ...(where.pgSchema === undefined ? {} : { CRASH_PG_SCHEMA: where.pgSchema }),
      CRASH_SECRET_KEY: h.key.toString('base64'),
      CRASH_CLOCK_AT_SPAWN: clock.now().toISOString(),
      CRASH_BATCH: String(BATCH),
      CRASH_LEASE_MS: '400',
    });

    let kills = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const before = rx.deliveries.length;
      const { child, exited } = startChild(env());
      let done = false;
      void exited.then(() => (done = true));
      // Kill once this child has delivered something, after a random extra moment.
      while (!done && rx.deliveries.length === before) await sleep(5);
      if (!done) {
        await sleep(Math.floor(Math.random() * 120));
        if (!done) {
          child.kill('SIGKILL');
          kills += 1;
        }
      }
      const exit = await exited;
      if (exit.signal === null) expect(exit.code, exit.stderr).toBe(0);
    }
    expect(kills).toBeGreaterThan(0);

    const final = await startChild(env()).exited;
    expect(final.code, final.stderr).toBe(0);

    expect(rx.rejected).toEqual([]);
    expect(rx.effects.size).toBe(EVENTS);
    const events = await databaseOf(store).selectFrom('events').select('id').execute();
    expect(new Set(rx.effects.keys())).toEqual(new Set(events.map((e) => e.id)));
    // Each event's delivery row ended succeeded (one row per event: nothing was queued twice).
    const rows = await databaseOf(store).selectFrom('outbox').select(['subject_id', 'status']).execute();
    expect(rows).toHaveLength(EVENTS);
    expect(rows.filter((r) => r.status !== 'succeeded')).toEqual([]);
    // Duplicates on the wire: at most what each killed sender held unacknowledged (one batch).
    const duplicates = rx.deliveries.length - rx.effects.size;
    expect(duplicates).toBeLessThanOrEqual(kills * BATCH);
  });
});
