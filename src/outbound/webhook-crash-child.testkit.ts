/**
 * Test support, run as a child process by webhook-crash.test.ts: a webhook worker on the store named by the
 * environment, delivering until the outbox has nothing left to send (then it exits 0), on the parent's test clock.
 * The parent SIGKILLs it at random instants.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';
import { databaseOf } from '../store/database.testkit.ts';
import { createStore } from '../store/index.ts';
import { continueTestClock } from '../test-clock.testkit.ts';
import { createWebhookWorker } from './webhook-worker.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const clock = continueTestClock(env('CRASH_CLOCK_AT_SPAWN'));
const store = await createStore({
  url: env('CRASH_DB_URL'),
  secretKey: Buffer.from(env('CRASH_SECRET_KEY'), 'base64'),
  ...(process.env.CRASH_PG_SCHEMA === undefined ? {} : { pgSchema: process.env.CRASH_PG_SCHEMA }),
});
const worker = createWebhookWorker({ store, egress: ALLOW_PRIVATE_EGRESS, now: clock.now, batch: Number(env('CRASH_BATCH')), leaseMs: Number(env('CRASH_LEASE_MS')), timeoutMs: 5000 });
for (;;) {
  if ((await worker.runOnce()) > 0) continue;
  const open = await databaseOf(store).selectFrom('outbox').select('id').where('status', 'in', ['pending', 'delivering']).limit(1).execute();
  if (open.length === 0) break;
  // A dead worker's claim: wait for its lease to run out.
  await delay(25);
}
await worker.stop();
await store.close();
process.stdout.write('drained\n');
