/**
 * Issue 13, finding 9: the sync lock had no fencing (a run whose lock was taken over could still commit) and expiry
 * used each process's wall clock. Now the lock carries a token checked inside each page's transaction, and expiry is
 * set and compared by the database's clock.
 */
import { afterEach, expect, it, vi } from 'vitest';
import type { NormalizedCertificate } from '../domain/certificate.ts';
import type { Provider } from '../providers/provider.ts';
import type { Store } from '../store/index.ts';
import { describeEachDialect, sampleCertificate, type StoreHarness } from '../store/dialects.testkit.ts';
import { databaseOf } from '../store/database.testkit.ts';
import { createTestClock } from '../test-clock.testkit.ts';
import { runSourceSync } from './engine.ts';
import { createFakeHttp, createListProvider, sessionOf, setupSource } from './sync.testkit.ts';

const certs = (from: number, to: number): NormalizedCertificate[] =>
  Array.from({ length: to - from + 1 }, (_, i) => sampleCertificate(from + i));

async function setup(h: StoreHarness) {
  const store = await h.open();
  const { input, source } = await setupSource(store);
  return { store, input, source, http: createFakeHttp(), clock: createTestClock() };
}

/** As if the holder's lock had run out on the database's clock (its process stalled past the ttl). */
async function expireLock(store: Store, sourceId: string): Promise<void> {
  await databaseOf(store).updateTable('sync_locks').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('source_id', '=', sourceId).execute();
}

afterEach(() => {
  vi.useRealTimers();
});

describeEachDialect('sync lock fencing', (h) => {
  it('finding 9: a run whose lock is taken over by another holder cannot save its next page: nothing written, the run fails with conflict', async () => {
    const { store, input, source, http, clock } = await setup(h);
    const list = createListProvider({ items: () => certs(1, 30), pageSize: 10 });
    let takenOver = false;
    // Between the first page (saved) and the second, the run stalls past its ttl and another run takes the lock.
    const provider: Provider<unknown> = {
      ...(list as Provider<unknown>),
      async *pull(ctx, checkpoint) {
        let pages = 0;
        for await (const page of list.pull(ctx as never, checkpoint)) {
          if (pages++ === 1) {
            await expireLock(store, source.id);
            const intruder = await store.locks.acquire(source.id, 'intruder:1:x', 60_000);
            takenOver = intruder.acquired;
          }
          yield page;
        }
      },
    };

    const report = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now: clock.now });

    expect(takenOver).toBe(true);
    expect(report).toMatchObject({ status: 'failed', pages: 1, error: { code: 'conflict' } });
    expect(report.error?.message).toContain('taken over');
    // Only the first page and its checkpoint; the second page's certificates and checkpoint were refused whole.
    const stored = await databaseOf(store).selectFrom('certificates').select('external_id').where('source_id', '=', source.id).execute();
    expect(stored).toHaveLength(10);
    expect(await store.sync.getCheckpoint(source.id)).toEqual({ offset: 10 });
    // The new holder keeps its lock: the old run's release does not free it.
    expect(await store.locks.get(source.id)).toMatchObject({ owner: 'intruder:1:x', fence: 2 });
  });

  it('finding 9: a stale holder is refused inside the transaction for pages, sweeps and scans; the live holder is not', async () => {
    const { store, source } = await setup(h);
    const a = await store.locks.acquire(source.id, 'a:1:x', 60_000);
    if (!a.acquired) throw new Error('a should hold the lock');
    await store.certificates.savePage(source.id, certs(1, 2), { offset: 2 }, { fence: a.fence });
    await expireLock(store, source.id);
    const b = await store.locks.acquire(source.id, 'b:1:x', 60_000);
    if (!b.acquired) throw new Error('b should take the expired lock over');
    expect(b.fence.token).toBe(a.fence.token + 1);

    await expect(store.certificates.savePage(source.id, certs(3, 4), { offset: 4 }, { fence: a.fence })).rejects.toMatchObject({ code: 'conflict' });
    await expect(store.certificates.markMissingDeleted(source.id, '2999-01-01T00:00:00.000Z', { fence: a.fence })).rejects.toMatchObject({ code: 'conflict' });
    await expect(store.scans.begin(source.id, { started_at: '2024-06-01T00:00:00.000Z', run_id: 'r' }, { fence: a.fence })).rejects.toMatchObject({ code: 'conflict' });
    expect(await store.locks.renew(a.fence, 60_000)).toBe(false);

    const rows = await databaseOf(store).selectFrom('certificates').select(['external_id', 'status']).where('source_id', '=', source.id).execute();
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.status !== 'deleted')).toBe(true);
    expect(await store.sync.getCheckpoint(source.id)).toEqual({ offset: 2 });
    expect(await store.scans.get(source.id)).toBeNull();

    await store.certificates.savePage(source.id, certs(3, 4), { offset: 4 }, { fence: b.fence });
    expect(await store.sync.getCheckpoint(source.id)).toEqual({ offset: 4 });
  });

  it("finding 9: takeover uses the database's clock: a process clock far in the future or the past changes nothing", async () => {
    const { store, source } = await setup(h);
    expect(await store.locks.acquire(source.id, 'a:1:x', 60_000)).toMatchObject({ acquired: true });
    const held = (await store.locks.get(source.id))!;

    // Only Date is faked: the process believes it is 2100, long after a's expiry by a's numbers.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2100-01-01T00:00:00.000Z'));
    expect(await store.locks.acquire(source.id, 'b:1:x', 60_000)).toMatchObject({ acquired: false, holder: { owner: 'a:1:x' } });
    // Nor does a process that believes it is 1990: the stored expiry is the database's now plus the ttl, untouched.
    vi.setSystemTime(new Date('1990-01-01T00:00:00.000Z'));
    expect(await store.locks.acquire(source.id, 'b:1:x', 60_000)).toMatchObject({ acquired: false });
    const after = (await store.locks.get(source.id))!;
    expect(after).toMatchObject({ owner: 'a:1:x', fence: 1, expires_at: held.expires_at });
    expect(after.expires_at > '2000-01-01' && after.expires_at < '2100-01-01').toBe(true);

    // Expired on the database's clock, the lock is taken over, whatever the process clock says (still 1990 here).
    await expireLock(store, source.id);
    expect(await store.locks.acquire(source.id, 'b:1:x', 60_000)).toMatchObject({ acquired: true, fence: { token: 2 } });
    const taken = (await store.locks.get(source.id))!;
    expect(taken.acquired_at! > '2000-01-01').toBe(true);
  });
});
