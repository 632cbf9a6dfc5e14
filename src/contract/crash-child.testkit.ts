/**
 * Test support, run as a child process by crash.test.ts: one sync of a real configured source (JSON in
 * CRASH_SOURCE) against its running simulator, into the store named by the environment, waiting while a killed
 * predecessor's lock expires. Prints the run report as JSON when done.
 */
import type { SourceConfig } from '../config/index.ts';
import { isAppError } from '../errors.ts';
import { createStore } from '../store/index.ts';
import { createSourceConnector } from '../providers/connector.ts';
import { runSourceSync } from '../sync/engine.ts';
import { continueTestClock } from '../test-clock.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

// The parent's test clock, running on in this process.
const clock = continueTestClock(env('CRASH_CLOCK_AT_SPAWN'));
const source = JSON.parse(env('CRASH_SOURCE')) as SourceConfig;
const store = await createStore({ url: env('CRASH_DB_URL'), secretKey: Buffer.from(env('CRASH_SECRET_KEY'), 'base64') });
const connector = createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS });
try {
  const tenant = await store.tenants.getTenantBySlug(source.tenant);
  const stored = tenant === null ? null : await store.sources.getSourceBySlug(tenant.id, source.id);
  if (stored === null) throw new Error(`source ${source.id} is not in the store`);
  for (let attempt = 0; ; attempt++) {
    const session = await connector.open(stored);
    try {
      const report = await runSourceSync({ store, session, now: clock.now, lockTtlMs: Number(env('CRASH_LOCK_TTL_MS')) });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      break;
    } catch (err) {
      if (!isAppError(err) || err.code !== 'conflict' || attempt > 400) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await session.close();
    }
  }
} finally {
  await store.close();
}
