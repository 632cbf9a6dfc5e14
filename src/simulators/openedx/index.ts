/**
 * The Open edX simulator: the LMS token endpoint and the Credentials API over real HTTP on the shared simulator
 * server, built from the shared world, plus the catalog slice a connector needs for titles on a second server
 * (course-discovery is its own service, on its own host). See README.md.
 */
import type { SimulatorInstance } from '../common/instance.ts';
import { createSimServer, type SimServer } from '../common/server.ts';
import type { TruthCertificate } from '../common/truth.ts';
import type { World } from '../common/world.ts';
import { createAccess, CREDENTIAL_VIEW_RATE, type Throttle } from './access.ts';
import { credentialsApiRoutes, type ApiContext } from './api.ts';
import { createAuth, openedxClients, type OAuthClient, type OpenedxClientOptions } from './auth.ts';
import { openedxControlRoutes } from './control.ts';
import { createCredentialRoute } from './create.ts';
import { generateOpenedxData, type ListOrder, type OpenedxData } from './data.ts';
import { createDiscoveryServer } from './discovery.ts';
import { notFoundPage } from './django.ts';
import { certificatePageRoutes } from './pages.ts';
import type { OpenedxRelease } from './present.ts';
import { learnerStatusRoutes } from './status.ts';
import { openedxTruth } from './truth.ts';

export type { Permission, Throttle } from './access.ts';
export type { OAuthClient, OpenedxClientOptions } from './auth.ts';

export interface OpenedxSimulatorOptions {
  world: World;
  /** The simulator's "now": change timestamps, token expiry, throttle windows. Default: real time. */
  clock?: () => Date;
  /** Lifetime of an access token. Default 3600. */
  tokenTtlSeconds?: number;
  /**
   * CredentialRateThrottle's credential_view rate per service user, on the credentials viewset only; staff and
   * superusers are exempt; `false` turns it off. Default 15 requests per 60 seconds (the real rate).
   */
  throttle?: Throttle | false;
  /** REST_FRAMEWORK["PAGE_SIZE"]. Default 20. A `page_size` query parameter is never honoured. */
  pageSize?: number;
  /** List order: `unordered` (default; no ORDER BY upstream, a stable seeded order) or `id` (creation order). */
  order?: ListOrder;
  /** Item shape: `teak` (default; Teak and later) or `sumac` (adds `download_url`). */
  release?: OpenedxRelease;
  /** Sumac only: `download_url` links to this simulator's PDF route instead of being null. Default false. */
  downloadUrls?: boolean;
  /** Per OAuth client (by index into `clients`): staff / superuser / permissions of its service user. */
  clients?: readonly (OpenedxClientOptions | undefined)[];
  /** settings.LEARNER_STATUS_WORKER: the username allowed to ask learner status. Default: client 0's service user. */
  learnerStatusWorker?: string;
  /** The `id` of the certhub.yaml source entry. Default `openedx`. */
  sourceId?: string;
}

export interface OpenedxSimulator extends SimulatorInstance {
  provider: 'openedx';
  /** The catalog slice (course-discovery) on its own server: listen it on another port to use it. */
  discovery: SimServer;
  /** OAuth clients: [0] is the one sourceConfigs() hands to certhub, [1] a second client (own service user). */
  clients: readonly OAuthClient[];
  truth(): TruthCertificate[];
  /** The compact records, for tests and measurements. */
  data: OpenedxData;
}

export function createOpenedxSimulator(opts: OpenedxSimulatorOptions): OpenedxSimulator {
  const { world } = opts;
  const data = generateOpenedxData(world);
  const clients = openedxClients(world, opts.clients);
  const main = clients[0] as OAuthClient;
  const auth = createAuth({ world, clients, tokenTtlSeconds: opts.tokenTtlSeconds ?? 3600 });
  const access = createAccess({ auth, throttle: opts.throttle ?? CREDENTIAL_VIEW_RATE, learnerStatusWorker: opts.learnerStatusWorker ?? main.serviceUser });
  const release = opts.release ?? 'teak';
  const downloadUrls = release === 'sumac' && opts.downloadUrls === true;
  const ctx: ApiContext = {
    data,
    access,
    pages: { pageSize: opts.pageSize ?? 20, pageSizeQuery: null },
    shape: { release, downloadUrls },
    order: opts.order ?? 'unordered',
    shouldRepeatPage: () => sim.faults.shouldRepeatPage(),
  };
  const truth = (): TruthCertificate[] => openedxTruth(data, { files: downloadUrls });
  const sim = createSimServer({
    name: 'openedx',
    ...(opts.clock ? { clock: opts.clock } : {}),
    // Production Django: APPEND_SLASH redirects, and an unknown path is the service's HTML 404 page.
    appendSlash: true,
    notFound: () => notFoundPage(),
    routes: [
      auth.tokenRoute,
      // The LMS's oauth_dispatch pattern is `^access_token/?$`: both spellings, no redirect.
      { ...auth.tokenRoute, path: '/oauth2/access_token/' },
      ...credentialsApiRoutes(ctx),
      createCredentialRoute(ctx),
      ...learnerStatusRoutes(ctx),
      ...certificatePageRoutes(data, { pdf: downloadUrls }),
    ],
    controlRoutes: openedxControlRoutes(data, access, ctx.shape),
    truth,
    // DRF's error shape, also for injected faults: {"detail": "..."}.
    errorBody: (status, message) => ({ detail: status === 429 ? 'Request was throttled.' : status === 404 ? 'Not found.' : `${message.replace(/\.$/, '')}.` }),
  });
  const discovery = createDiscoveryServer({ data, access, ...(opts.clock ? { clock: opts.clock } : {}) });
  return {
    provider: 'openedx',
    sim,
    discovery,
    companions: [discovery],
    clients,
    truth,
    data,
    sourceConfigs: () => [
      {
        id: opts.sourceId ?? 'openedx',
        provider: 'openedx',
        base_url: sim.url(),
        // Titles come from course-discovery, a separate host: only when its server is listening.
        ...(discovery.url() ? { catalog_url: discovery.url() } : {}),
        oauth: { token_url: `${sim.url()}/oauth2/access_token`, client_id: main.clientId, client_secret: main.clientSecret },
        // A staff service user is exempt from the 15/minute throttle that certhub paces Open edX at by default.
        ...(main.staff || main.superuser ? { rate_limit: { requests: 10, per_seconds: 1 } } : {}),
      },
    ],
  };
}
