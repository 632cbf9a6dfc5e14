/**
 * Test support, run as a child process by crash.test.ts: one sync of a real configured source (JSON in
 * CRASH_SOURCE) against its running simulator, into the store named by the environment, waiting while a killed
 * predecessor's lock expires. Prints the run report as JSON when done.
 */
import type { SourceConfig } from '../config/index.ts';
import { isAppError } from '../errors.ts';
import { createStore } from '../store/index.ts';
import { defaultSyncDeps } from '../sync/deps.ts';
import { runSourceSync } from '../sync/engine.ts';
import { getProvider } from '../providers/index.ts';
import { continueTestClock } from '../test-clock.testkit.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

// The parent's test clock, running on in this process.
const clock = continueTestClock(env('CRASH_CLOCK_AT_SPAWN'));
const source = JSON.parse(env('CRASH_SOURCE')) as SourceConfig;
const store = await createStore({ url: env('CRASH_DB_URL'), secretKey: Buffer.from(env('CRASH_SECRET_KEY'), 'base64') });
const provider = getProvider(source.provider);
const deps = defaultSyncDeps();
try {
  for (let attempt = 0; ; attempt++) {
    const http = deps.createHttp(source, provider, undefined);
    try {
      const report = await runSourceSync({ store, source, provider, http, now: clock.now, lockTtlMs: Number(env('CRASH_LOCK_TTL_MS')) });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      break;
    } catch (err) {
      if (!isAppError(err) || err.code !== 'conflict' || attempt > 400) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await http.close();
    }
  }
} finally {
  await store.close();
}
