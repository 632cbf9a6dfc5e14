/**
 * The FrontCore simulator: FrontCore's diplomas / participants / certificate-status API over real
 * HTTP on the shared simulator server, built from the shared world. See README.md.
 */
import type { SimulatorInstance } from '../common/instance.ts';
import { createWindowLimiter } from '../common/ratelimit.ts';
import { createSimServer } from '../common/server.ts';
import type { TruthCertificate } from '../common/truth.ts';
import type { World } from '../common/world.ts';
import { frontcoreApiRoutes } from './api.ts';
import { frontcoreControlRoutes } from './control.ts';
import { generateFrontcoreData } from './generate.ts';
import type { FrontcoreData } from './model.ts';
import { createPresenter } from './present.ts';
import { createDownloadTokens } from './tokens.ts';
import { frontcoreTruth } from './truth.ts';
import { createZonelessClock } from './zoneless.ts';

export interface FrontcoreSimulatorOptions {
  world: World;
  /** The simulator's "now": change timestamps, token expiry, rate windows. Default: real time. */
  clock?: () => Date;
  /** Requests per window per account (FrontCore: 5 per second). */
  rateLimit?: { limit: number; windowMs: number };
  /** The `id` of the certhub.yaml source entry. Default `frontcore-main`. */
  sourceId?: string;
}

export interface FrontcoreSimulator extends SimulatorInstance {
  provider: 'frontcore';
  /** API keys of the two accounts (`main`, `second`): same data, separate rate windows. */
  apiKeys: readonly [string, string];
  truth(): TruthCertificate[];
  /** The compact records, for tests and measurements. */
  data: FrontcoreData;
}

/** FrontCore prints wall-clock time without a zone; this account is Norwegian. */
export const FRONTCORE_TIMEZONE = 'Europe/Oslo';

function secretFrom(world: World, label: string, prefix: string): string {
  const rng = world.rng.fork('frontcore').fork(label);
  let hex = '';
  for (let i = 0; i < 8; i++) hex += rng.int(0, 0xffff_ffff).toString(16).padStart(8, '0');
  return `${prefix}${hex}`;
}

export function createFrontcoreSimulator(opts: FrontcoreSimulatorOptions): FrontcoreSimulator {
  const { world } = opts;
  const clock = opts.clock ?? (() => new Date());
  const data = generateFrontcoreData(world, FRONTCORE_TIMEZONE);
  const zc = createZonelessClock(FRONTCORE_TIMEZONE);
  const tokens = createDownloadTokens(secretFrom(world, 'download-token-secret', ''));
  const present = createPresenter(data, zc, tokens);
  const apiKeys = [secretFrom(world, 'api-key-main', 'fc_'), secretFrom(world, 'api-key-second', 'fc_')] as const;
  const accounts = new Map<string, string>([
    [apiKeys[0], 'main'],
    [apiKeys[1], 'second'],
  ]);
  const limiter = createWindowLimiter(opts.rateLimit ?? { limit: 5, windowMs: 1000 });
  const truth = (): TruthCertificate[] => frontcoreTruth(data, present);
  const sim = createSimServer({
    name: 'frontcore',
    clock,
    routes: frontcoreApiRoutes({ data, present, tokens, limiter, accounts, shouldRepeatPage: () => sim.faults.shouldRepeatPage() }),
    controlRoutes: frontcoreControlRoutes(world, data, present, accounts),
    truth,
    errorBody: (_status, message) => ({ error: message }),
  });
  return {
    provider: 'frontcore',
    sim,
    apiKeys,
    truth,
    data,
    sourceConfigs: () => [{ id: opts.sourceId ?? 'frontcore-main', provider: 'frontcore', base_url: sim.url(), api_key: apiKeys[0], timezone: FRONTCORE_TIMEZONE }],
  };
}
