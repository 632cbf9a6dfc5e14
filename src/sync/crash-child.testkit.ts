/**
 * Test support, run as a child process by crash.test.ts (`node --import tsx crash-child.testkit.ts`): one sync of a fake
 * slow provider against the store named by the environment, retrying while the source's lock is held (after a SIGKILL
 * the dead run's lock has to expire first). Prints the run report as JSON when done.
 */
import { createStore } from '../store/index.ts';
import { isAppError } from '../errors.ts';
import { runSourceSync } from './engine.ts';
import { createFakeHttp, createListProvider, fakeCertificate, sessionOf } from './sync.testkit.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const total = Number(env('CRASH_CERTIFICATES'));
const people = Number(env('CRASH_PEOPLE'));
const store = await createStore({
  url: env('CRASH_DB_URL'),
  secretKey: Buffer.from(env('CRASH_SECRET_KEY'), 'base64'),
  ...(process.env.CRASH_PG_SCHEMA === undefined ? {} : { pgSchema: process.env.CRASH_PG_SCHEMA }),
});
// Several certificates per person, so identity resolution is exercised across pages and crashes.
const items = Array.from({ length: total }, (_, i) =>
  fakeCertificate(i, {
    subject: {
      provider_user_id: `u-${i % people}`,
      email: `person${i % people}@example.com`,
      first_name: 'Kari',
      last_name: `Nordmann ${i % people}`,
      date_of_birth: '1990-01-15',
    },
  }),
);
const provider = createListProvider({
  completeness: env('CRASH_COMPLETENESS') === 'full-scan' ? 'full-scan' : 'incremental',
  items: () => items,
  pageSize: Number(env('CRASH_PAGE_SIZE')),
  delayMs: Number(env('CRASH_DELAY_MS')),
});
try {
  const tenant = await store.tenants.getTenantBySlug('default');
  const source = tenant === null ? null : await store.sources.getSourceBySlug(tenant.id, 'crash-src');
  if (source === null) throw new Error('source crash-src is not in the store');
  const input = { id: 'crash-src', provider: 'frontcore', tenant: 'default' };
  for (let attempt = 0; ; attempt++) {
    try {
      const report = await runSourceSync({
        store,
        session: sessionOf(input, source, provider, createFakeHttp().client),
        lockTtlMs: Number(env('CRASH_LOCK_TTL_MS')),
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      break;
    } catch (err) {
      if (!isAppError(err) || err.code !== 'conflict' || attempt > 200) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
} finally {
  await store.close();
}
