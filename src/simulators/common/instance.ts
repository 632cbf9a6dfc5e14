import type { SimulatedProvider } from './world.ts';
import type { SimServer } from './server.ts';
import type { TruthCertificate } from './truth.ts';

/** One running provider simulator, as the sandbox and the tests start it. */
export interface SimulatorInstance {
  provider: SimulatedProvider;
  sim: SimServer;
  /** Further servers of the same provider on their own hosts (Open edX: course-discovery), listened and closed with it. */
  companions?: readonly SimServer[];
  /** certhub.yaml `sources:` entries for this running simulator (base_url from sim.url()), secrets included. */
  sourceConfigs(): Record<string, unknown>[];
  /** Every certificate the simulator exposes now (all accounts / hosts it serves), normalized. */
  truth(): TruthCertificate[];
}
