import { expect, it } from 'vitest';
import type { NormalizedCertificate } from '../domain/certificate.ts';
import { AppError } from '../errors.ts';
import type { Store, SyncRun } from '../store/index.ts';
import { describeEachDialect, sampleCertificate, type StoreHarness } from '../store/dialects.testkit.ts';
import { runSourceSync, type SyncProgress } from './engine.ts';
import { createFakeHttp, createListProvider, sessionOf, setupSource } from './sync.testkit.ts';
import { databaseOf } from '../store/database.testkit.ts';

const certs = (from: number, to: number): NormalizedCertificate[] =>
  Array.from({ length: to - from + 1 }, (_, i) => sampleCertificate(from + i));

/** A clock that moves one second per reading, so every run and page has its own instant. */
function steppingClock(start = Date.parse('2024-06-01T10:00:00.000Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

async function setup(h: StoreHarness) {
  const store = await h.open();
  const { input, source } = await setupSource(store);
  return { store, input, source, http: createFakeHttp(), now: steppingClock() };
}

async function storedCertificates(store: Store, sourceId: string) {
  return databaseOf(store)
    .selectFrom('certificates')
    .select(['external_id', 'status', 'person_id'])
    .where('source_id', '=', sourceId)
    .orderBy('external_id')
    .execute();
}

describeEachDialect('sync engine', (h) => {
  it('stores everything on a first run, then reports all unchanged; the report is stored with the run', async () => {
    const { store, input, source, http, now } = await setup(h);
    const provider = createListProvider({ items: () => certs(1, 25), pageSize: 10 });
    const progress: SyncProgress[] = [];
    const first = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now, onProgress: (p) => progress.push(p) });

    expect(first).toMatchObject({
      source: 'fake-main',
      provider: 'frontcore',
      status: 'succeeded',
      pages: 3,
      certificates: { created: 25, updated: 0, unchanged: 0, deleted: 0 },
      requests_by_endpoint: { 'GET /certificates': 3 },
      throttled_429: 0,
      retries: 0,
      error: null,
    });
    expect(first.run_id).toEqual(expect.any(String));
    expect(first.duration_ms).toBe(Date.parse(first.finished_at) - Date.parse(first.started_at));
    expect(progress.map((p) => [p.pages, p.certificates, p.done, p.total])).toEqual([
      [1, 10, 10, 25],
      [2, 20, 20, 25],
      [3, 25, 25, 25],
    ]);
    expect(await storedCertificates(store, source.id)).toHaveLength(25);
    expect(await store.sync.getCheckpoint(source.id)).toEqual({ offset: 25 });

    const run = await store.sync.getRun(first.run_id!);
    expect(run).toMatchObject({ status: 'succeeded', error: null, finished_at: first.finished_at });
    expect(run?.report).toEqual(first);
    expect(await store.locks.get(source.id)).toBeNull();

    // Incremental: the second run continues from the checkpoint; from the top with --full it sees all, unchanged.
    const second = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });
    expect(second).toMatchObject({ status: 'succeeded', pages: 0, requests_by_endpoint: {} });
    const full = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now, full: true });
    expect(full).toMatchObject({
      status: 'succeeded',
      pages: 3,
      certificates: { created: 0, updated: 0, unchanged: 25, deleted: 0 },
      requests_by_endpoint: { 'GET /certificates': 3 },
    });
    expect(provider.checkpointsGiven).toEqual([null, { offset: 25 }, null]);
    expect(await h.rows(store, 'certificate_versions')).toHaveLength(25);
  });

  it('sums the pages\' warnings by code into the stored report; a run whose pages have none reports []', async () => {
    const { store, input, source, http, now } = await setup(h);
    const untitled = 'achievements left untitled: the catalog did not answer';
    const pageWarnings: Record<number, { code: string; message: string; count?: number }[]> = {
      1: [{ code: 'untitled_achievements', message: untitled, count: 5 }, { code: 'no_file', message: 'certificates without a downloadable file' }],
      3: [{ code: 'untitled_achievements', message: untitled, count: 7 }, { code: 'no_file', message: 'certificates without a downloadable file', count: 0 }],
    };
    const provider = createListProvider({ items: () => certs(1, 25), pageSize: 10, warnings: (page) => pageWarnings[page] });
    const report = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });

    expect(report).toMatchObject({ status: 'succeeded', pages: 3, error: null });
    // One entry per code in the order first met, counts summed (no count is 1; a count of 0 adds nothing).
    expect(report.warnings).toEqual([
      { code: 'untitled_achievements', message: untitled, count: 12 },
      { code: 'no_file', message: 'certificates without a downloadable file', count: 1 },
    ]);
    expect((await store.sync.getRun(report.run_id!))?.report).toEqual(report);

    const clean = await runSourceSync({
      store,
      session: sessionOf(input, source, createListProvider({ items: () => certs(1, 5), pageSize: 10 }), http.client),
      now,
      full: true,
    });
    expect(clean).toMatchObject({ status: 'succeeded', pages: 1, warnings: [] });
    expect((await store.sync.getRun(clean.run_id!))?.report).toMatchObject({ warnings: [] });
  });

  it('keeps the warnings of the pages saved before a failure in the failed run\'s report', async () => {
    const { store, input, source, http, now } = await setup(h);
    const provider = createListProvider({
      items: () => certs(1, 30),
      pageSize: 10,
      failOnPage: { page: 3 },
      warnings: () => [{ code: 'no_file', message: 'certificates without a downloadable file', count: 2 }],
    });
    const failed = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });
    expect(failed).toMatchObject({ status: 'failed', pages: 2, warnings: [{ code: 'no_file', message: 'certificates without a downloadable file', count: 4 }] });
    expect((await store.sync.getRun(failed.run_id!))?.report).toEqual(failed);
  });

  it('keeps the pages saved before a failure, records the error, releases the lock, and resumes without duplicates', async () => {
    const { store, input, source, http, now } = await setup(h);
    const provider = createListProvider({ items: () => certs(1, 50), pageSize: 10, failOnPage: { page: 3 } });

    const failed = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });
    expect(failed).toMatchObject({
      status: 'failed',
      pages: 2,
      certificates: { created: 20, updated: 0, unchanged: 0, deleted: 0 },
      error: { code: 'provider_unavailable', message: 'provider answered 503 on page 3' },
    });
    expect(await storedCertificates(store, source.id)).toHaveLength(20);
    expect(await store.sync.getCheckpoint(source.id)).toEqual({ offset: 20 });
    expect(await store.locks.get(source.id)).toBeNull();
    expect(await store.sync.getRun(failed.run_id!)).toMatchObject({
      status: 'failed',
      error: 'provider answered 503 on page 3',
      report: failed,
    });

    const resumed = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });
    expect(resumed).toMatchObject({ status: 'succeeded', pages: 3, certificates: { created: 30, unchanged: 0 } });
    expect(provider.checkpointsGiven).toEqual([null, { offset: 20 }]);
    const stored = await storedCertificates(store, source.id);
    expect(stored).toHaveLength(50);
    expect(new Set(stored.map((c) => c.external_id)).size).toBe(50);
    expect(await h.rows(store, 'certificate_versions')).toHaveLength(50);
  });

  it('sweeps a full-scan source only after a complete scan, never after a failed one', async () => {
    const { store, input, source, http, now } = await setup(h);
    let items = certs(1, 30);
    const provider = createListProvider({ completeness: 'full-scan', items: () => items, pageSize: 10 });
    const run = () => runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });

    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { created: 30, deleted: 0 } });
    // A completed scan ends the scan; the provider's last checkpoint makes the next run scan from the top.
    expect(await store.scans.get(source.id)).toBeNull();
    expect(await store.sync.getCheckpoint(source.id)).toEqual({ offset: 0 });

    // ext-5 and ext-25 disappear from the provider; the next scan fails on its second page.
    items = items.filter((c) => c.external_id !== 'ext-5' && c.external_id !== 'ext-25');
    const failing = createListProvider({ completeness: 'full-scan', items: () => items, pageSize: 10, failOnPage: { page: 2 } });
    const failed = await runSourceSync({ store, session: sessionOf(input, source, failing, http.client), now });
    expect(failed).toMatchObject({ status: 'failed', pages: 1, certificates: { deleted: 0 } });
    expect((await storedCertificates(store, source.id)).filter((c) => c.status === 'deleted')).toEqual([]);

    // The next run resumes the interrupted scan (from page 2) and, having completed it, sweeps against the scan's
    // start: page 1, seen by the failed run, is not swept.
    const resumed = await runSourceSync({ store, session: sessionOf(input, source, failing, http.client), now });
    expect(failing.checkpointsGiven).toEqual([{ offset: 0 }, { offset: 10 }]);
    expect(resumed).toMatchObject({ status: 'succeeded', pages: 2, certificates: { deleted: 2 } });
    const deleted = (await storedCertificates(store, source.id)).filter((c) => c.status === 'deleted');
    expect(deleted.map((c) => c.external_id).sort()).toEqual(['ext-25', 'ext-5']);

    // A scan the provider answers with "unchanged" re-reads nothing and sweeps nothing.
    const unchanged = createListProvider({ completeness: 'full-scan', items: () => [], pageSize: 10, unchanged: () => true });
    expect(await runSourceSync({ store, session: sessionOf(input, source, unchanged, http.client), now })).toMatchObject({
      status: 'succeeded',
      pages: 1,
      certificates: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
    });
    expect(await store.scans.get(source.id)).toBeNull();

    // Nothing more disappears: a new scan deletes nothing; a record that comes back is restored.
    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { deleted: 0, unchanged: 28 } });
    items = [...items, sampleCertificate(5)];
    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { updated: 1, deleted: 0 } });
    expect((await store.certificates.getCertificateByExternalId(source.tenant_id, source.id, 'ext-5'))?.status).toBe('awarded');
  });

  it('sweeps a scan that died between its last page and the sweep, even when the next run is answered "unchanged"', async () => {
    const { store, input, source, http, now } = await setup(h);
    const all = certs(1, 12);
    const full = createListProvider({ completeness: 'full-scan', items: () => all, pageSize: 5 });
    expect(await runSourceSync({ store, session: sessionOf(input, source, full, http.client), now })).toMatchObject({ status: 'succeeded' });

    // ext-3 disappears. The next scan saves every page, its last checkpoint included, then the process dies.
    const remaining = all.filter((c) => c.external_id !== 'ext-3');
    const listRemaining = createListProvider({ completeness: 'full-scan', items: () => remaining, pageSize: 5 });
    const crashing: typeof listRemaining = {
      ...listRemaining,
      async *pull(ctx, checkpoint) {
        yield* listRemaining.pull(ctx, checkpoint);
        throw new AppError('internal', 'process killed before the sweep');
      },
    };
    expect(await runSourceSync({ store, session: sessionOf(input, source, crashing, http.client), now })).toMatchObject({ status: 'failed', certificates: { deleted: 0 } });

    // The provider now says "nothing changed since your last complete answer" (Falkor's hash): the resumed scan is
    // complete, so what it did not return is swept.
    const unchanged = createListProvider({ completeness: 'full-scan', items: () => [], pageSize: 5, unchanged: () => true });
    expect(await runSourceSync({ store, session: sessionOf(input, source, unchanged, http.client), now })).toMatchObject({ status: 'succeeded', certificates: { deleted: 1 } });
    expect((await store.certificates.getCertificateByExternalId(source.tenant_id, source.id, 'ext-3'))?.status).toBe('deleted');
    expect(await store.scans.get(source.id)).toBeNull();
  });

  it('sweeps an incremental source after a run its provider marked as a full scan, and only then', async () => {
    const { store, input, source, http, now } = await setup(h);
    let items = certs(1, 10);
    let fullScan = true;
    const provider = createListProvider({ items: () => items, pageSize: 4, fullScan: () => fullScan });
    const run = () => runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });
    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { created: 10, deleted: 0 } });
    items = items.filter((c) => c.external_id !== 'ext-2' && c.external_id !== 'ext-7');
    fullScan = false;
    // An ordinary incremental run cannot tell a deletion from "not changed": nothing is swept.
    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { deleted: 0 } });
    fullScan = true;
    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { deleted: 2 } });
    expect((await store.certificates.getCertificateByExternalId(source.tenant_id, source.id, 'ext-7'))?.status).toBe('deleted');
    expect(await store.scans.get(source.id)).toBeNull();
  });

  it('refuses a second concurrent run of the same source with a conflict naming the running one', async () => {
    const { store, input, source, http, now } = await setup(h);
    let open = () => undefined as void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow = createListProvider({ items: () => certs(1, 5), pageSize: 5, gate });
    const first = runSourceSync({ store, session: sessionOf(input, source, slow, http.client), now });

    // Wait until the first run holds the lock with its run id.
    let holder = await store.locks.get(source.id);
    for (let i = 0; i < 100 && holder?.run_id == null; i++) {
      await new Promise((r) => setTimeout(r, 10));
      holder = await store.locks.get(source.id);
    }
    const second = createListProvider({ items: () => certs(1, 5), pageSize: 5 });
    const err = await runSourceSync({ store, session: sessionOf(input, source, second, http.client), now }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('conflict');
    expect((err as AppError).message).toBe(`source fake-main is already syncing (run ${holder?.run_id})`);
    expect(second.checkpointsGiven).toEqual([]);

    open();
    expect(await first).toMatchObject({ status: 'succeeded', certificates: { created: 5 } });
    expect(await store.locks.get(source.id)).toBeNull();
    // Free again.
    expect(await runSourceSync({ store, session: sessionOf(input, source, second, http.client), now })).toMatchObject({
      status: 'succeeded',
    });
  });

  it('says when the run is recorded and holds the lock, before any page, with the run the report ends', async () => {
    const { store, input, source, http, now } = await setup(h);
    let open = () => undefined as void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const provider = createListProvider({ items: () => certs(1, 3), pageSize: 10, gate });
    let started: SyncRun | null = null;
    const run = runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now, onRunStarted: (r) => (started = r) });
    for (let i = 0; i < 200 && started === null; i++) await new Promise((r) => setTimeout(r, 5));
    const seen = started as SyncRun | null;
    expect(seen).toMatchObject({ source_id: source.id, status: 'running', finished_at: null });
    expect(await store.sync.getRun(seen!.id)).toMatchObject({ status: 'running' });
    expect((await store.locks.get(source.id))?.run_id).toBe(seen!.id);
    open();
    expect((await run).run_id).toBe(seen!.id);

    // A run that cannot start never calls it; a listener that throws does not fail the run.
    await store.locks.acquire(source.id, 'other:1:x', 10_000);
    const calls: SyncRun[] = [];
    await expect(runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now, onRunStarted: (r) => calls.push(r) })).rejects.toMatchObject({ code: 'conflict' });
    expect(calls).toEqual([]);
    await store.locks.release(source.id, 'other:1:x');
    const report = await runSourceSync({
      store, session: sessionOf(input, source, provider, http.client), now, full: true,
      onRunStarted: () => {
        throw new Error('listener broke');
      },
    });
    expect(report.status).toBe('succeeded');
  });

  it('takes over the lock of a run whose process died, and marks that run failed', async () => {
    const { store, input, source, http, now } = await setup(h);
    // A run that was killed: its lock row stays until it expires, its run row stays `running`.
    const ghost = await store.sync.startRun(source.id);
    expect(await store.locks.acquire(source.id, 'dead-host:1:abc', 200)).toMatchObject({ acquired: true });
    await store.locks.setRun(source.id, 'dead-host:1:abc', ghost.id);

    const provider = createListProvider({ items: () => certs(1, 3), pageSize: 10 });
    await expect(runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now })).rejects.toThrow(
      `source fake-main is already syncing (run ${ghost.id})`,
    );
    await new Promise((r) => setTimeout(r, 250));
    expect(await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now })).toMatchObject({
      status: 'succeeded',
      certificates: { created: 3 },
    });
    const ghostAfter = await store.sync.getRun(ghost.id);
    expect(ghostAfter?.status).toBe('failed');
    expect(ghostAfter?.error).toMatch(/^interrupted/);
  });

  it('finding 6: a run that outlasts its maximum duration is stopped, keeps what it saved, releases the lock, and the next run resumes', async () => {
    const { store, input, source, http, now } = await setup(h);
    // Ten pages of at least 100 ms each cannot finish within 250 ms, however fast the machine.
    const provider = createListProvider({ items: () => certs(1, 100), pageSize: 10, delayMs: 100 });
    const report = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now, maxRunMs: 250 });
    expect(report).toMatchObject({ status: 'failed', error: { code: 'provider_unavailable', message: expect.stringContaining('longer than its maximum of 250 ms') as string } });
    expect(report.pages).toBeLessThan(10);
    expect(await storedCertificates(store, source.id)).toHaveLength(report.pages * 10);
    expect(await store.locks.get(source.id)).toBeNull();
    const resumed = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });
    expect(resumed).toMatchObject({ status: 'succeeded', certificates: { created: 100 - report.pages * 10 } });
  });

  it('stops on abort, records the failure and releases the lock', async () => {
    const { store, input, source, http, now } = await setup(h);
    const controller = new AbortController();
    const provider = createListProvider({ items: () => certs(1, 100), pageSize: 10, delayMs: 20 });
    const running = runSourceSync({
      store,
      session: sessionOf(input, source, provider, http.client),
      now,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.pages === 2) controller.abort();
      },
    });
    const report = await running;
    expect(report).toMatchObject({ status: 'failed', pages: 2, error: { message: 'sync aborted (shutting down)' } });
    expect(await storedCertificates(store, source.id)).toHaveLength(20);
    expect(await store.locks.get(source.id)).toBeNull();
  });

  it('never puts a credential into the error it reports', async () => {
    const { store, input, source, http, now } = await setup(h);
    const provider = createListProvider({
      items: () => certs(1, 3),
      pageSize: 10,
      failOnPage: {
        page: 1,
        error: () => new Error('GET https://api.example/certs?api_key=test-key-123456&page=1 failed\n  at stack line'),
      },
    });
    const report = await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });
    expect(report.error).toEqual({ code: 'internal', message: 'GET https://api.example/certs?api_key=***&page=1 failed' });
    expect(JSON.stringify(report)).not.toContain('test-key-123456');
  });

  it('stores the catalog a provider lists, and links every certificate to a person', async () => {
    const { store, input, source, http, now } = await setup(h);
    const sameEmail = (n: number) => sampleCertificate(n, { subject: { ...sampleCertificate(n).subject, email: 'Shared@Example.com' } });
    const provider = createListProvider({
      items: () => [sampleCertificate(1), sameEmail(2), sameEmail(3)],
      pageSize: 2,
      catalog: [{ type: 'course', external_id: 'FIRE-201', title: 'Fire Safety', code: 'FIRE-201', extra: { hours: 8 } }],
    });
    expect(await runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now })).toMatchObject({ status: 'succeeded' });

    // The catalog entry is stored even though no certificate of it was seen yet.
    const achievements = await databaseOf(store).selectFrom('achievements').select(['external_id', 'title', 'extra_json']).orderBy('external_id').execute();
    expect(achievements).toEqual([
      { external_id: 'FIRE-201', title: 'Fire Safety', extra_json: '{"hours":8}' },
      { external_id: 'SAFE-101', title: 'Safety Training', extra_json: null },
    ]);

    const stored = await storedCertificates(store, source.id);
    expect(stored.every((c) => c.person_id !== null)).toBe(true);
    // ext-2 and ext-3 share an email (on different pages): one person.
    const byExt = new Map(stored.map((c) => [c.external_id, c.person_id]));
    expect(byExt.get('ext-2')).toBe(byExt.get('ext-3'));
    expect(byExt.get('ext-1')).not.toBe(byExt.get('ext-2'));
  });

  it('links people once when two sources with the same people sync at the same time', async () => {
    const { store, input, source, http, now } = await setup(h);
    const other = await setupSource(store, { id: 'fake-other', provider: 'springest' });
    const samePeople = (prefix: string) =>
      Array.from({ length: 120 }, (_, i) =>
        sampleCertificate(i, {
          external_id: `${prefix}-${i}`,
          subject: { provider_user_id: null, email: `shared${i}@example.com`, first_name: 'A', last_name: `B${i}`, date_of_birth: null },
        }),
      );
    const a = createListProvider({ items: () => samePeople('a'), pageSize: 5 });
    const b = createListProvider({ id: 'springest', items: () => samePeople('b'), pageSize: 7 });
    const reports = await Promise.all([
      runSourceSync({ store, session: sessionOf(input, source, a, http.client), now }),
      runSourceSync({ store, session: sessionOf(other.input, other.source, b, http.client), now }),
    ]);
    expect(reports.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const people = await h.rows(store, 'people');
    expect(people).toHaveLength(120);
    const linked = await databaseOf(store).selectFrom('certificates').select('person_id').where('person_id', 'is not', null).execute();
    expect(linked).toHaveLength(240);
  });
});
