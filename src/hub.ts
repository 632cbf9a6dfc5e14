/**
 * The running hub: API + web UI + background syncs over one store. `certhub serve` and `certhub demo` start it;
 * browser tests start it in process.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApp } from './api/app.ts';
import type { SyncLauncher } from './api/deps.ts';
import { createMetrics } from './api/metrics.ts';
import type { RateLimit } from './domain/rate-limit.ts';
import { describeError } from './errors.ts';
import { createEventBus, type EventBus } from './events.ts';
import { createLimiterRegistry } from './providers/http/index.ts';
import { createSourceConnector } from './providers/connector.ts';
import type { EgressPolicy } from './providers/http/egress.ts';
import { findProvider } from './providers/registry.ts';
import { createWebhookWorker, type WebhookWorker } from './outbound/webhook-worker.ts';
import { createPushWorker, type PushWorker } from './outbound/push-worker.ts';
import type { Store } from './store/index.ts';
import { createSyncLauncher, type BackgroundSyncLauncher } from './sync/launcher.ts';
import { startStoredScheduler } from './sync/stored-scheduler.ts';

export interface HubOptions {
  store: Store;
  logger: Logger;
  host: string;
  port: number;
  /** The built web UI; default: web/dist of this package when it exists. Null: API only. */
  webRoot?: string | null;
  /** Run the store-driven scheduler (default true). */
  schedule?: boolean;
  rateLimit?: RateLimit | null;
  /** What GET /metrics wants as its Bearer token (CERTHUB_METRICS_TOKEN); absent: /metrics is closed. */
  metricsToken?: string | null;
  /** Where provider requests may go (certhub.yaml `outbound:`); default: public addresses only. */
  outbound?: EgressPolicy;
  /** Work the outbox (webhook deliveries and pushes) from this process (default true). */
  deliver?: boolean;
  /** Tests: the clock of the API and the webhook deliverer (default the wall clock). */
  now?: () => Date;
}

export interface RunningHub {
  app: FastifyInstance;
  url: string;
  events: EventBus;
  launcher: BackgroundSyncLauncher;
  /** The outbox's webhook deliverer, or null when this hub does not deliver. */
  webhooks: WebhookWorker | null;
  /** The outbox's push worker, or null when this hub does not work the outbox. */
  pushes: PushWorker | null;
  /** Whether the web UI is served at `/`. */
  ui: boolean;
  /** Stops scheduling, aborts runs in flight (each records itself failed), closes the server. The store stays open. */
  stop(): Promise<void>;
}

/** web/dist of this package, or null when the UI has not been built (`npm run build:web`). */
export function defaultWebRoot(): string | null {
  const dir = fileURLToPath(new URL('../web/dist/', import.meta.url));
  return existsSync(`${dir}index.html`) ? dir : null;
}

export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startHub(opts: HubOptions): Promise<RunningHub> {
  const { store, logger } = opts;
  // One of each per process: the bus the UI listens on, the metrics /metrics serves, and the rate-limit buckets that
  // keep everything talking to one provider account (syncs, tests, downloads, live checks) under its limit together.
  const events = createEventBus();
  const metrics = createMetrics();
  const connector = createSourceConnector({
    store,
    limiters: createLimiterRegistry(),
    logger,
    ...(opts.outbound === undefined ? {} : { outbound: opts.outbound }),
  });
  const launcher = createSyncLauncher({ store, connector, events, metrics, logger });
  let scheduler: ReturnType<typeof startStoredScheduler> | null = null;
  const sync: SyncLauncher = {
    start: (sourceId, startOpts) => launcher.start(sourceId, startOpts),
    nextSyncAt: (sourceId) => scheduler?.nextSyncAt(sourceId) ?? null,
    sourcesChanged: () => void scheduler?.refresh(),
  };
  const webRoot = opts.webRoot === undefined ? defaultWebRoot() : opts.webRoot;
  const webhooks =
    (opts.deliver ?? true)
      ? createWebhookWorker({
          store,
          logger,
          ...(opts.outbound === undefined ? {} : { egress: opts.outbound }),
          ...(opts.now === undefined ? {} : { now: opts.now }),
          onAttempt: (outcome, latencyMs) => metrics.observeWebhookAttempt(outcome, (latencyMs ?? 0) / 1000),
        })
      : null;
  const pushes =
    (opts.deliver ?? true)
      ? createPushWorker({
          store,
          connector,
          logger,
          ...(opts.now === undefined ? {} : { now: opts.now }),
          onStep: (outcome) => metrics.observePushStep(outcome),
        })
      : null;
  const app = createApp({
    store,
    logger,
    events,
    metrics,
    connector,
    sync,
    webRoot,
    ...(opts.rateLimit === undefined ? {} : { rateLimit: opts.rateLimit }),
    ...(opts.metricsToken === undefined ? {} : { metricsToken: opts.metricsToken }),
    ...(opts.outbound === undefined ? {} : { outbound: opts.outbound }),
    ...(webhooks === null ? {} : { webhookWorker: webhooks }),
    ...(pushes === null ? {} : { pushWorker: pushes }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
  });
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await launcher.stop();
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : describeError(err);
    throw new Error(`cannot listen on ${urlOf(opts.host, opts.port)}: ${reason}`, { cause: err });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  if (opts.schedule ?? true) {
    // Every enabled source in the store (certhub.yaml's and those added through the API), each on its sync_every.
    scheduler = startStoredScheduler({ store, launcher, hasConnector: (p) => findProvider(p) !== null, logger });
  }
  webhooks?.start();
  pushes?.start();
  let stopped: Promise<void> | undefined;
  return {
    app,
    url: urlOf(opts.host, port),
    events,
    launcher,
    webhooks,
    pushes,
    ui: webRoot !== null,
    stop() {
      stopped ??= (async () => {
        // Nothing new is scheduled; runs in flight are aborted: each records itself failed and releases its lock.
        await scheduler?.stop();
        await launcher.stop();
        await webhooks?.stop();
        await pushes?.stop();
        await app.close();
      })();
      return stopped;
    },
  };
}
