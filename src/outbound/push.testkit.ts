/**
 * Test support for pushes: a FrontCore, a Springest and an Open edX simulator on ONE seeded world and one pinned
 * clock (so the same people are at all three), applied to a store as sources `fc`, `sp` and `oe`, FrontCore synced.
 * The Open edX client may write (credentials.* permissions); Springest's 30-posts-a-minute limit is the real one.
 */
import { applyConfiguredSources } from '../config/apply.ts';
import type { Config, SourceConfig } from '../config/index.ts';
import { parseSource } from '../contract/harness.testkit.ts';
import { createSourceConnector, type SourceConnector } from '../providers/connector.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';
import { generateWorld } from '../simulators/common/world.ts';
import { createFrontcoreSimulator, type FrontcoreSimulator } from '../simulators/frontcore/index.ts';
import { PERMISSIONS } from '../simulators/openedx/access.ts';
import { createOpenedxSimulator, type OpenedxSimulator } from '../simulators/openedx/index.ts';
import { createSpringestSimulator, type SpringestSimulator } from '../simulators/springest/index.ts';
import type { Source, Store, Tenant } from '../store/index.ts';
import { syncConfigured } from '../sync/sync.testkit.ts';
import type { TestClock } from '../test-clock.testkit.ts';

export interface PushWorld {
  tenant: Tenant;
  fc: { sim: FrontcoreSimulator; url: string; config: SourceConfig; source: Source };
  sp: { sim: SpringestSimulator; url: string; config: SourceConfig; source: Source };
  oe: { sim: OpenedxSimulator; url: string; config: SourceConfig; source: Source };
  connector: SourceConnector;
  sync(which: 'fc' | 'sp' | 'oe', opts?: { full?: boolean }): Promise<void>;
  /** POST /__sim<path> (or another method) on a simulator's control routes. */
  control(which: 'fc' | 'sp' | 'oe', method: string, path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

// Fast enough for tests; the pacing under test is the push's own (push_pacing), not the HTTP client's bucket.
const FAST = { rate_limit: { requests: 100, per_seconds: 1 } };

export async function startPushWorld(store: Store, clock: TestClock, opts: { people?: number; seed?: string } = {}): Promise<PushWorld> {
  const world = generateWorld({ seed: opts.seed ?? 'push-world', people: opts.people ?? 40, asOf: clock.asOf });
  const fcSim = createFrontcoreSimulator({ world, clock: clock.now, rateLimit: { limit: 100, windowMs: 1000 } });
  const spSim = createSpringestSimulator({ world, clock: clock.now, limits: { requestsPerHour: 100_000 } });
  const oeSim = createOpenedxSimulator({ world, clock: clock.now, throttle: false, clients: [{ permissions: PERMISSIONS }] });
  const fcUrl = await fcSim.sim.listen(0, '127.0.0.1');
  const spUrl = await spSim.sim.listen(0, '127.0.0.1');
  const oeUrl = await oeSim.sim.listen(0, '127.0.0.1');
  await oeSim.discovery.listen(0, '127.0.0.1');
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  const config = (entry: Record<string, unknown> | undefined, id: string): SourceConfig => parseSource({ ...(entry ?? {}), ...FAST, id, tenant: 'default' });
  const fcConfig = config(fcSim.sourceConfigs()[0], 'fc');
  const spConfig = config(spSim.sourceConfigs()[0], 'sp');
  const oeConfig = config(oeSim.sourceConfigs()[0], 'oe');
  await applyConfiguredSources(store, { sources: [fcConfig, spConfig, oeConfig] } as Config);
  const sourceOf = async (slug: string): Promise<Source> => (await store.sources.getSourceBySlug(tenant.id, slug))!;
  const configs = { fc: fcConfig, sp: spConfig, oe: oeConfig };
  const urls = { fc: fcUrl, sp: spUrl, oe: oeUrl };
  const pw: PushWorld = {
    tenant,
    fc: { sim: fcSim, url: fcUrl, config: fcConfig, source: await sourceOf('fc') },
    sp: { sim: spSim, url: spUrl, config: spConfig, source: await sourceOf('sp') },
    oe: { sim: oeSim, url: oeUrl, config: oeConfig, source: await sourceOf('oe') },
    connector: createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS }),
    async sync(which, syncOpts = {}) {
      const report = await syncConfigured(store, configs[which], { now: clock.now, ...(syncOpts.full === undefined ? {} : { full: syncOpts.full }) });
      if (report.status !== 'succeeded') throw new Error(`sync of ${which} ${report.status}: ${JSON.stringify(report.error)}`);
    },
    async control(which, method, path, body) {
      const res = await fetch(`${urls[which]}/__sim${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} /__sim${path}: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    },
    async close() {
      await Promise.all([fcSim.sim.close(), spSim.sim.close(), oeSim.sim.close(), oeSim.discovery.close()]);
    },
  };
  await pw.sync('fc');
  return pw;
}
