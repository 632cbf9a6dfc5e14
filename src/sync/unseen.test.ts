/**
 * Full scans whose provider's list has no order (Open edX): at the end of a scan the provider asks the engine which
 * stored certificates it has not returned (PullContext.unseen), checks them one by one, and may end the scan without
 * a sweep (Page.sweep = false) when it cannot confirm what is gone.
 */
import { expect, it } from 'vitest';
import type { NormalizedCertificate } from '../domain/certificate.ts';
import type { Checkpoint, Page, Provider } from '../providers/provider.ts';
import { describeEachDialect, sampleCertificate, type StoreHarness } from '../store/dialects.testkit.ts';
import { runSourceSync } from './engine.ts';
import { createFakeHttp, createListProvider, fakeConfigSchema, sessionOf, setupSource, type FakeConfig } from './sync.testkit.ts';

const certs = (from: number, to: number): NormalizedCertificate[] => Array.from({ length: to - from + 1 }, (_, i) => sampleCertificate(from + i));

function steppingClock(start = Date.parse('2024-06-01T10:00:00.000Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

/**
 * A full-scan provider that lists `listed()`, then asks `unseen` and hands over those of them `alive()` still has;
 * `postpone` makes it end the scan with `sweep: false`.
 */
function createCheckingProvider(opts: { listed: () => NormalizedCertificate[]; alive: () => NormalizedCertificate[]; postpone?: () => boolean }) {
  const asked: string[][] = [];
  const provider: Provider<FakeConfig> = {
    ...createListProvider({ completeness: 'full-scan', items: () => [], pageSize: 10 }),
    async *pull(ctx): AsyncGenerator<Page> {
      const checkpoint: Checkpoint = { offset: 0 };
      yield { certificates: opts.listed(), checkpoint };
      const unseen = (await ctx.unseen?.(100)) ?? [];
      asked.push(unseen);
      const found = opts.alive().filter((c) => unseen.includes(c.external_id));
      yield {
        certificates: found,
        checkpoint,
        ...(opts.postpone?.() === true ? { sweep: false as const, warnings: [{ code: 'sweep_postponed', message: 'could not confirm what is gone' }] } : {}),
      };
    },
  };
  return { provider: { ...provider, configSchema: fakeConfigSchema }, asked };
}

async function setup(h: StoreHarness) {
  const store = await h.open();
  const { input, source } = await setupSource(store);
  return { store, input, source, http: createFakeHttp(), now: steppingClock() };
}

describeEachDialect('full scans that check what they did not list', (h) => {
  it('unseen names exactly the stored certificates the scan has not returned; those found alive are kept, the rest swept', async () => {
    const { store, input, source, http, now } = await setup(h);
    const all = certs(1, 12);
    let listed = all;
    const { provider, asked } = createCheckingProvider({ listed: () => listed, alive: () => all.filter((c) => c.external_id !== 'ext-3') });
    const run = () => runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });

    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { created: 12, deleted: 0 } });
    expect(asked[0]).toEqual([]);

    // The list hides ext-2, ext-3 and ext-7 this scan; ext-3 is really gone, the other two still exist.
    listed = all.filter((c) => !['ext-2', 'ext-3', 'ext-7'].includes(c.external_id));
    const second = await run();
    expect([...(asked[1] ?? [])].sort()).toEqual(['ext-2', 'ext-3', 'ext-7']);
    expect(second).toMatchObject({ status: 'succeeded', certificates: { deleted: 1, unchanged: 11 } });
    expect((await store.certificates.getCertificateByExternalId(source.tenant_id, source.id, 'ext-3'))?.status).toBe('deleted');
    for (const id of ['ext-2', 'ext-7']) expect((await store.certificates.getCertificateByExternalId(source.tenant_id, source.id, id))?.status).toBe('awarded');
  });

  it('a page saying sweep: false ends the scan without sweeping, and carries its warning into the report', async () => {
    const { store, input, source, http, now } = await setup(h);
    const all = certs(1, 6);
    let listed = all;
    let postpone = false;
    const { provider } = createCheckingProvider({ listed: () => listed, alive: () => [], postpone: () => postpone });
    const run = () => runSourceSync({ store, session: sessionOf(input, source, provider, http.client), now });
    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { created: 6 } });

    listed = all.slice(0, 4);
    postpone = true;
    const kept = await run();
    expect(kept).toMatchObject({ status: 'succeeded', certificates: { deleted: 0 }, warnings: [{ code: 'sweep_postponed', message: 'could not confirm what is gone', count: 1 }] });
    expect(await store.scans.get(source.id)).toBeNull();
    expect((await store.certificates.getCertificateByExternalId(source.tenant_id, source.id, 'ext-6'))?.status).toBe('awarded');

    // The next scan that can confirm it sweeps them.
    postpone = false;
    expect(await run()).toMatchObject({ status: 'succeeded', certificates: { deleted: 2 }, warnings: [] });
  });
});
