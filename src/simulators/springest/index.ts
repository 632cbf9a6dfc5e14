/** The Springest simulator: one instance is one country host with its own keys and data. */
import { createSimServer } from '../common/server.ts';
import type { SimulatorInstance } from '../common/instance.ts';
import type { TruthCertificate } from '../common/truth.ts';
import type { World } from '../common/world.ts';
import { springestRoutes, type SpringestLimits } from './api.ts';
import { springestControlRoutes } from './control.ts';
import { generateSpringestHost, type SpringestHost } from './model.ts';
import { springestTruth } from './truth.ts';

export interface SpringestSimulator extends SimulatorInstance {
  provider: 'springest';
  host: SpringestHost;
  truth(): TruthCertificate[];
}

export function createSpringestSimulator(opts: { world: World; country?: string; clock?: () => Date; limits?: Partial<SpringestLimits> }): SpringestSimulator {
  const clock = opts.clock ?? (() => new Date());
  const host = generateSpringestHost(opts.world, opts.country ?? 'nl');
  const limits: SpringestLimits = { requestsPerHour: 4000, postsPerMinute: 30, ...opts.limits };
  const sim = createSimServer({
    name: `springest-${host.country}`,
    routes: springestRoutes(host, limits, clock),
    controlRoutes: springestControlRoutes(host, opts.world, clock),
    truth: () => springestTruth(host),
    errorBody: (_status, message) => ({ error: message }),
    clock,
  });
  return {
    provider: 'springest',
    sim,
    host,
    truth: () => springestTruth(host),
    sourceConfigs: () => [{ id: `springest-${host.country}`, provider: 'springest', base_url: sim.url(), api_key: host.apiKey, certifications_api_key: host.certificationsKey }],
  };
}
