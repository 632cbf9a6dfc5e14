/**
 * Issue 16: 90 pushes to Springest queued at once (one sync page) are paced so that Springest, which answers a 31st
 * post within a minute with 400, never refuses one, and they take about three minutes. Two push workers share the
 * work and the key's posting slots through the store. The clock is the test's: the simulator's rate window and
 * certhub's pacing read the same one, moved on when nothing is due, so three minutes pass in a few seconds.
 */
import { afterEach, expect, it } from 'vitest';
import { applyConfiguredSources } from '../config/apply.ts';
import type { Config } from '../config/index.ts';
import { parseSource } from '../contract/harness.testkit.ts';
import { startRecordingProxy, type RecordingProxy } from '../contract/recording-proxy.testkit.ts';
import { createPersonResolver } from '../identity/resolver.ts';
import { createSourceConnector } from '../providers/connector.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';
import { makeCertificatePdf } from '../simulators/common/pdf.ts';
import { generateWorld } from '../simulators/common/world.ts';
import { createSpringestSimulator, type SpringestSimulator } from '../simulators/springest/index.ts';
import { describeEachDialect, sampleCertificate } from '../store/dialects.testkit.ts';
import { createTestClock } from '../test-clock.testkit.ts';
import { createPushWorker } from './push-worker.ts';
import { resolvePushRule } from './push-rules.ts';

const PUSHES = 90;

let sim: SpringestSimulator | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await sim?.sim.close();
  sim = proxy = undefined;
});

describeEachDialect('Springest post pacing', (h) => {
  it('90 pushes queued at once are never refused for the rate and take about three minutes', { timeout: 120_000 }, async () => {
    const clock = createTestClock();
    const store = await h.open();
    const sp = (sim = createSpringestSimulator({ world: generateWorld({ seed: 'pacing', people: 20, asOf: clock.asOf }), clock: clock.now, limits: { requestsPerHour: 100_000 } }));
    const px = (proxy = await startRecordingProxy(await sp.sim.listen(0, '127.0.0.1'), clock.now));
    const springest = parseSource({ ...sp.sourceConfigs()[0], id: 'sp', base_url: px.url, rate_limit: { requests: 100, per_seconds: 1 } });
    const origin = parseSource({ id: 'fc', provider: 'frontcore', base_url: 'http://127.0.0.1:9', api_key: 'unused' });
    await applyConfiguredSources(store, { sources: [origin, springest] } as Config);
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const certification = sp.host.certifications.find((c) => c.verified && !c.requires_valid_until)!;
    await store.pushes.createRule(
      tenant.id,
      await resolvePushRule(store, tenant.id, { name: 'pacing', match: { achievement: { source: 'fc', external_id: 'SAFE-101' } }, target_source: 'sp', target: { certification_id: certification.id } }),
      { now: clock.now() },
    );
    // The PDFs are archived already: the posts take them from the archive.
    const fc = (await store.sources.getSourceBySlug(tenant.id, 'fc'))!;
    await store.certificates.savePage(
      fc.id,
      Array.from({ length: PUSHES }, (_, i) => sampleCertificate(i)),
      null,
      { now: clock.now(), resolvePeople: createPersonResolver() },
    );
    const pdf = await store.files.putBlob(makeCertificatePdf(['Safety Training']), 'application/pdf');
    for (const c of (await store.certificates.listCertificates(tenant.id, {}, { limit: 1000 })).items) await store.files.setCertificateFile(tenant.id, c.id, pdf);
    expect((await store.pushes.listPushes(tenant.id, { limit: 500 })).items).toHaveLength(PUSHES);

    const connector = createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS });
    const workers = [0, 1].map(() => createPushWorker({ store, connector, now: clock.now, random: () => 0.5 }));
    for (let pass = 0; pass < 20_000; pass++) {
      const worked = (await Promise.all(workers.map((w) => w.runOnce()))).reduce((a, b) => a + b, 0);
      if (worked > 0) continue;
      const due = await store.pushes.nextDue();
      if (due === null) break;
      const wait = Date.parse(due) - clock.nowMs();
      if (wait > 0) clock.advance(wait + 1);
    }

    const pushes = (await store.pushes.listPushes(tenant.id, { limit: 500 })).items;
    expect(pushes.filter((p) => p.state !== 'pushed').map((p) => `${p.state}: ${p.last_error}`)).toEqual([]);
    const posts = px.log.filter((e) => e.method === 'POST');
    expect(posts).toHaveLength(PUSHES);
    expect(posts.filter((p) => p.status !== 201)).toEqual([]);
    // Never more than 30 in any minute, as Springest counts them.
    const at = posts.map((p) => p.at).sort((a, b) => a - b);
    for (let i = 30; i < at.length; i++) expect(at[i]! - at[i - 30]!, `post ${i}`).toBeGreaterThanOrEqual(60_000);
    // About three minutes from the first post to the last: 89 gaps of 60/28 s.
    const minutes = (at.at(-1)! - at[0]!) / 60_000;
    expect(minutes).toBeGreaterThan(2.9);
    expect(minutes).toBeLessThan(3.5);
    expect(sp.host.posted.size).toBe(PUSHES);
  });
});
