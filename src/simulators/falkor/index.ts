/**
 * The Falkor story-certificates simulator (story-certificates.txt) over real HTTP on the shared
 * simulator server: several accounts, each on its own base path (`/acme/api`, `/nordlys/api`) with
 * its own token, on one server. See README.md.
 */
import type { SimulatorInstance } from '../common/instance.ts';
import { createSimServer } from '../common/server.ts';
import { sortTruth, type TruthCertificate } from '../common/truth.ts';
import type { World } from '../common/world.ts';
import { falkorErrorBody, falkorRoutes, type FalkorRateLimit } from './api.ts';
import { falkorControlRoutes } from './control.ts';
import { DEFAULT_ACCOUNTS, generateFalkorAccounts } from './generate.ts';
import type { FalkorAccount } from './model.ts';
import { createOsloFormat } from './oslo.ts';
import { falkorTruth } from './truth.ts';

export type { FalkorRateLimit } from './api.ts';
export type { SimulatorInstance } from '../common/instance.ts';
export { STORY_TYPES, type FalkorAccount, type FalkorCertificateView, type FalkorLearner, type FalkorStory } from './model.ts';

export interface FalkorSimulatorOptions {
  world: World;
  /** The simulator's "now": timestamps of certificates added without one, change stamps, rate windows. Default: real time. */
  clock?: () => Date;
  /** Account names (each its own base path `/<name>/api`, token and data). Default `['acme', 'nordlys']`. */
  accounts?: readonly string[];
  /** The doc documents no rate limit, so none by default; set one to test pacing (429 + Retry-After, per account). */
  rateLimit?: FalkorRateLimit | null;
}

export interface FalkorSimulator extends SimulatorInstance {
  provider: 'falkor';
  /** The accounts' records (for tests and measurements). */
  accounts: FalkorAccount[];
  /** The ground truth of one account (one certhub source); [] for an unknown name. */
  truthFor(account: string): TruthCertificate[];
}

export function createFalkorSimulator(opts: FalkorSimulatorOptions): FalkorSimulator {
  const clock = opts.clock ?? (() => new Date());
  const accounts = generateFalkorAccounts(opts.world, opts.accounts ?? DEFAULT_ACCOUNTS);
  const fmt = createOsloFormat();
  const truthFor = (name: string): TruthCertificate[] => {
    const account = accounts.find((a) => a.name === name);
    return account ? falkorTruth(account, sim.url(), fmt) : [];
  };
  const truth = (): TruthCertificate[] => sortTruth(accounts.flatMap((a) => falkorTruth(a, sim.url(), fmt)));
  const sim = createSimServer({
    name: 'falkor',
    routes: falkorRoutes(accounts, fmt, {
      rateLimit: opts.rateLimit ?? null,
      shouldTruncate: () => {
        if (!sim.faults.shouldTruncate()) return false;
        sim.counters.fault('truncated_body');
        return true;
      },
    }),
    controlRoutes: falkorControlRoutes(accounts, { world: opts.world, clock, fmt }),
    truth,
    errorBody: (_status, message) => falkorErrorBody(message),
    clock,
  });
  return {
    provider: 'falkor',
    sim,
    accounts,
    truth,
    truthFor,
    sourceConfigs: () => accounts.map((a) => ({ id: `falkor-${a.name}`, provider: 'falkor', base_url: `${sim.url()}${a.basePath}`, token: a.token })),
  };
}
