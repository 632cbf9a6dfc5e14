/** What the API is built from: createApp(deps). Tests build their own; `certhub serve` builds the real ones. */
import type { FastifyBaseLogger } from 'fastify';
import type { EventBus } from '../events.ts';
import type { SourceConnector } from '../providers/connector.ts';
import type { Store } from '../store/index.ts';
import type { SyncRun } from '../store/index.ts';
import type { Metrics } from './metrics.ts';
import type { RateLimit } from '../domain/rate-limit.ts';
import type { EgressGuard, EgressPolicy, Resolve } from '../providers/http/egress.ts';

/** Starts sync runs of stored sources in the background (the scheduler's and the API's way in). */
export interface SyncLauncher {
  /**
   * Starts a run of the source and resolves once it is recorded (status `running`), with that run; the run goes on in
   * the background. AppError('conflict') when the source is syncing already.
   */
  start(sourceId: string, opts?: { full?: boolean }): Promise<SyncRun>;
  /** When the scheduler next syncs the source; null when not scheduled or unknown (omit without a scheduler). */
  nextSyncAt?(sourceId: string): Date | null;
  /** Sources were created, changed or deleted through the API: the scheduler re-reads them (omit without one). */
  sourcesChanged?(): void;
}

export interface ApiDeps {
  store: Store;
  /** A pino logger (secrets redacted by path); omit for silence (tests). */
  logger?: FastifyBaseLogger;
  /** Default: a new bus (nothing else publishes to it). */
  events?: EventBus;
  /** Default: a new registry. */
  metrics?: Metrics;
  /** The token GET /metrics wants as `Authorization: Bearer` (CERTHUB_METRICS_TOKEN); null or absent: /metrics is closed. */
  metricsToken?: string | null;
  /** Per-key limit; null turns it off. Default DEFAULT_API_RATE_LIMIT. */
  rateLimit?: RateLimit | null;
  /** Talks to providers for file downloads and live status checks; without it those answer provider_unavailable. */
  connector?: SourceConnector;
  /** Starts sync runs (POST /v1/sources/{id}/sync); without it that route answers provider_unavailable. */
  sync?: SyncLauncher;
  /**
   * How long GET /v1/certificates/{id}/file may take to fetch a file from its provider, all requests and retries
   * included, before it answers 502 (default FILE_DEADLINE_MS).
   */
  fileDeadlineMs?: number;
  /** Directory of the built web UI served at `/`; null or absent: no UI. */
  webRoot?: string | null;
  /** Where webhook endpoints may point (certhub.yaml `outbound:`); default: public addresses only. */
  outbound?: EgressPolicy;
  /** Tests: how the egress check resolves host names. */
  resolve?: Resolve;
  /** The webhook worker, woken when the API queues a delivery (test event, redelivery); absent: it polls. */
  webhookWorker?: { wake(): void };
  /** The push worker, woken when the API plans or retries a push; absent: it polls. */
  pushWorker?: { wake(): void };
  now?: () => Date;
}

/** ApiDeps with its defaults filled in: what route modules receive. */
export interface RouteDeps {
  store: Store;
  events: EventBus;
  metrics: Metrics;
  connector: SourceConnector | null;
  sync: SyncLauncher | null;
  now: () => Date;
  /** Default FILE_DEADLINE_MS. */
  fileDeadlineMs?: number;
  /** Checks a webhook URL's host against the egress policy (every address it resolves to). */
  egress: EgressGuard;
  wakeWebhooks: () => void;
  wakePushes: () => void;
}
