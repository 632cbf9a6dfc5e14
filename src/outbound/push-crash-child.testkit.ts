/**
 * Test support, run as a child process by push-crash.test.ts: a push worker on the store named by the environment,
 * working until no push is due within a few seconds (then it exits 0), on the parent's test clock. The parent
 * SIGKILLs it at random instants.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createSourceConnector } from '../providers/connector.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';
import { databaseOf } from '../store/database.testkit.ts';
import { createStore } from '../store/index.ts';
import { continueTestClock } from '../test-clock.testkit.ts';
import { createPushWorker } from './push-worker.ts';

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
const connector = createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS });
const worker = createPushWorker({ store, connector, now: clock.now, leaseMs: Number(env('CRASH_LEASE_MS')), random: Math.random });
process.stdout.write('ready\n');
const horizonMs = Number(env('CRASH_HORIZON_MS'));
for (;;) {
  if ((await worker.runOnce()) > 0) continue;
  const held = await databaseOf(store).selectFrom('outbox').select('id').where('kind', '=', 'push').where('status', '=', 'delivering').limit(1).execute();
  const due = await store.pushes.nextDue();
  if (held.length === 0 && (due === null || Date.parse(due) - clock.nowMs() > horizonMs)) break;
  // A slot seconds away, or a dead worker's claim: wait for it.
  await delay(50);
}
await worker.stop();
await store.close();
process.stdout.write('drained\n');
