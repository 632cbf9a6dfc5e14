/**
 * The Springest simulator (springest-certificates.txt) over real HTTP on the shared simulator
 * server: one instance is one country host with its own two keys, certifications and people.
 * See README.md.
 */
import type { SimulatorInstance } from '../common/instance.ts';
import { createSimServer } from '../common/server.ts';
import type { TruthCertificate } from '../common/truth.ts';
import type { World } from '../common/world.ts';
import { springestErrorBody, springestRoutes, type SpringestLimits } from './api.ts';
import { springestControlRoutes } from './control.ts';
import { generateSpringestHost } from './generate.ts';
import type { SpringestHost } from './model.ts';
import { springestTruth } from './truth.ts';
import { createSpringestUsers } from './users.ts';

export { SPRINGEST_COUNTRIES } from './generate.ts';
export type { SpringestLimits } from './api.ts';
export type { Certification, SpringestHost } from './model.ts';

export interface SpringestSimulatorOptions {
  world: World;
  /** The simulator's "now": created_at of new certificates, change stamps, rate windows. Default: real time. */
  clock?: () => Date;
  /** The country host (`nl` default, `de`, `be`, `uk`): own keys, certifications, people subset and zone. */
  country?: string;
  /** Defaults: 4000 requests per hour per key, 30 posts per minute per key. */
  limits?: Partial<SpringestLimits>;
  /** The `id` of the certhub.yaml source entry. Default `springest-<country>`. */
  sourceId?: string;
}

export interface SpringestSimulator extends SimulatorInstance {
  provider: 'springest';
  /** The host's records (keys, certifications, compact certificate columns), for tests and measurements. */
  host: SpringestHost;
  truth(): TruthCertificate[];
}

export function createSpringestSimulator(opts: SpringestSimulatorOptions): SpringestSimulator {
  const host = generateSpringestHost(opts.world, opts.country ?? 'nl');
  const users = createSpringestUsers(opts.world, host);
  const limits: SpringestLimits = { requestsPerHour: 4000, postsPerMinute: 30, ...opts.limits };
  const truth = (): TruthCertificate[] => springestTruth(host);
  const sim = createSimServer({
    name: `springest-${host.country}`,
    routes: springestRoutes(host, users, limits, () => {
      if (!sim.faults.shouldTruncate()) return false;
      sim.counters.fault('truncated_body');
      return true;
    }),
    controlRoutes: springestControlRoutes(opts.world, host, users),
    truth,
    errorBody: (_status, message) => springestErrorBody(message),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return {
    provider: 'springest',
    sim,
    host,
    truth,
    sourceConfigs: () => [
      { id: opts.sourceId ?? `springest-${host.country}`, provider: 'springest', base_url: sim.url(), api_key: host.apiKey, certifications_api_key: host.certificationsKey },
    ],
  };
}
