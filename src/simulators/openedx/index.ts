/**
 * The Open edX simulator: the LMS token endpoint and the Credentials API (plus the catalog slice a
 * connector needs for titles) over real HTTP on the shared simulator server, built from the shared
 * world. See README.md.
 */
import type { SimulatorInstance } from '../common/instance.ts';
import { createSimServer } from '../common/server.ts';
import type { TruthCertificate } from '../common/truth.ts';
import type { World } from '../common/world.ts';
import { credentialsApiRoutes, type ApiContext } from './api.ts';
import { createAuth, openedxClients, type OAuthClient, type Throttle } from './auth.ts';
import { openedxControlRoutes } from './control.ts';
import { createCredentialRoute } from './create.ts';
import { generateOpenedxData, type OpenedxData } from './data.ts';
import { discoveryRoutes } from './discovery.ts';
import { learnerStatusRoutes } from './status.ts';
import { openedxTruth } from './truth.ts';

export interface OpenedxSimulatorOptions {
  world: World;
  /** The simulator's "now": change timestamps, token expiry, throttle windows. Default: real time. */
  clock?: () => Date;
  /** Lifetime of an access token. Default 3600. */
  tokenTtlSeconds?: number;
  /** DRF throttle per OAuth client; `false` turns it off. Default 120 requests per 60 seconds. */
  throttle?: Throttle | false;
  /** DRF page size when `page_size` is absent or invalid (default 20) and its cap (default 100). */
  defaultPageSize?: number;
  maxPageSize?: number;
  /** The `id` of the certhub.yaml source entry. Default `openedx`. */
  sourceId?: string;
}

export interface OpenedxSimulator extends SimulatorInstance {
  provider: 'openedx';
  /** OAuth clients: [0] is the one sourceConfigs() hands to certhub, [1] a second client (own throttle). */
  clients: readonly OAuthClient[];
  truth(): TruthCertificate[];
  /** The compact records, for tests and measurements. */
  data: OpenedxData;
}

export const DEFAULT_THROTTLE: Throttle = { requests: 120, per_seconds: 60 };

export function createOpenedxSimulator(opts: OpenedxSimulatorOptions): OpenedxSimulator {
  const { world } = opts;
  const data = generateOpenedxData(world);
  const clients = openedxClients(world);
  const auth = createAuth({ world, clients, tokenTtlSeconds: opts.tokenTtlSeconds ?? 3600, throttle: opts.throttle ?? DEFAULT_THROTTLE });
  const ctx: ApiContext = {
    data,
    auth,
    pages: { defaultPageSize: opts.defaultPageSize ?? 20, maxPageSize: opts.maxPageSize ?? 100 },
    shouldRepeatPage: () => sim.faults.shouldRepeatPage(),
  };
  const truth = (): TruthCertificate[] => openedxTruth(data);
  const sim = createSimServer({
    name: 'openedx',
    ...(opts.clock ? { clock: opts.clock } : {}),
    routes: [auth.tokenRoute, ...credentialsApiRoutes(ctx), createCredentialRoute(ctx), ...learnerStatusRoutes(ctx), ...discoveryRoutes(ctx)],
    controlRoutes: openedxControlRoutes(data, auth),
    truth,
    // DRF's error shape, also for injected faults: {"detail": "..."}.
    errorBody: (status, message) => ({ detail: status === 429 ? 'Request was throttled.' : status === 404 ? 'Not found.' : `${message.replace(/\.$/, '')}.` }),
  });
  const main = clients[0] as OAuthClient;
  return {
    provider: 'openedx',
    sim,
    clients,
    truth,
    data,
    sourceConfigs: () => [
      {
        id: opts.sourceId ?? 'openedx',
        provider: 'openedx',
        base_url: sim.url(),
        oauth: { token_url: `${sim.url()}/oauth2/access_token`, client_id: main.clientId, client_secret: main.clientSecret },
      },
    ],
  };
}
