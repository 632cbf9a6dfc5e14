/** The Falkor story-certificates simulator: several accounts, each on its own base path with its own token. */
import { createSimServer } from '../common/server.ts';
import type { SimulatorInstance } from '../common/instance.ts';
import type { TruthCertificate } from '../common/truth.ts';
import type { World } from '../common/world.ts';
import { falkorRoutes } from './api.ts';
import { falkorControlRoutes } from './control.ts';
import { generateFalkorAccounts, type FalkorAccount } from './model.ts';
import { falkorTruth } from './truth.ts';

export interface FalkorSimulator extends SimulatorInstance {
  provider: 'falkor';
  accounts: FalkorAccount[];
  truthFor(account: string): TruthCertificate[];
}

export function createFalkorSimulator(opts: { world: World; clock?: () => Date }): FalkorSimulator {
  const clock = opts.clock ?? (() => new Date());
  const accounts = generateFalkorAccounts(opts.world);
  const truthFor = (name: string): TruthCertificate[] => {
    const account = accounts.find((a) => a.name === name);
    return account ? falkorTruth(account, sim.url()) : [];
  };
  const truth = (): TruthCertificate[] => accounts.flatMap((a) => falkorTruth(a, sim.url()));
  const sim = createSimServer({
    name: 'falkor',
    routes: falkorRoutes(accounts),
    controlRoutes: falkorControlRoutes(accounts, opts.world, clock),
    truth,
    errorBody: (_status, message) => ({ status: 'error', message }),
    clock,
  });
  return {
    provider: 'falkor',
    sim,
    accounts,
    truthFor,
    truth,
    sourceConfigs: () => accounts.map((a) => ({ id: `falkor-${a.name}`, provider: 'falkor', base_url: `${sim.url()}/${a.name}/api`, token: a.token })),
  };
}
