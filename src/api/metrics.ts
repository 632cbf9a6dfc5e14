/**
 * Prometheus metrics (prom-client), one registry per app: HTTP requests and latencies by route, sync runs, and the
 * requests and 429s certhub met at each provider. Scraped at GET /metrics with the metrics token (metrics-access.ts).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SyncReport } from '../sync/report.ts';

export interface Metrics {
  readonly registry: Registry;
  observeRequest(labels: { method: string; route: string; status: number }, seconds: number): void;
  /**
   * Called once per finished sync run with its report and the slug of its source's tenant: source slugs are unique
   * only within a tenant, and ids would mean nothing to whoever reads the dashboard.
   */
  observeSyncRun(report: SyncReport, where: { tenant: string }): void;
  /** One webhook delivery attempt: succeeded, retry (failed, tried again later) or failed (given up), and its time. */
  observeWebhookAttempt(outcome: 'succeeded' | 'retry' | 'failed', seconds: number): void;
  observePushStep(outcome: 'succeeded' | 'retry' | 'failed'): void;
}

export function createMetrics(opts: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'certhub_' });
  const requests = new Counter({
    name: 'certhub_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'certhub_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const syncRuns = new Counter({
    name: 'certhub_sync_runs_total',
    help: 'Sync runs finished, by tenant slug, source slug, provider and status',
    labelNames: ['tenant', 'source', 'provider', 'status'] as const,
    registers: [registry],
  });
  const syncDuration = new Histogram({
    name: 'certhub_sync_run_duration_seconds',
    help: 'Sync run duration by provider',
    labelNames: ['provider'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  const providerRequests = new Counter({
    name: 'certhub_provider_requests_total',
    help: 'Requests made to providers during sync runs, by provider',
    labelNames: ['provider'] as const,
    registers: [registry],
  });
  const provider429 = new Counter({
    name: 'certhub_provider_throttled_total',
    help: 'Responses 429 (Too Many Requests) met at providers during sync runs, by provider',
    labelNames: ['provider'] as const,
    registers: [registry],
  });
  const certificates = new Counter({
    name: 'certhub_certificates_changed_total',
    help: 'Certificates created, updated or deleted by sync runs, by provider and change',
    labelNames: ['provider', 'change'] as const,
    registers: [registry],
  });
  const webhookAttempts = new Counter({
    name: 'certhub_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome: succeeded, retry (failed, tried again later), failed (given up)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const pushSteps = new Counter({
    name: 'certhub_push_steps_total',
    help: 'Push worker steps by outcome: succeeded (the target is as wanted), retry (again later: paced, awaiting verification, failed for now), failed (given up)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const webhookLatency = new Histogram({
    name: 'certhub_webhook_attempt_duration_seconds',
    help: 'Webhook delivery attempt time, from sending to the answer (or the 15 s deadline)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  return {
    registry,
    observeWebhookAttempt(outcome, seconds) {
      webhookAttempts.inc({ outcome });
      webhookLatency.observe(seconds);
    },
    observePushStep(outcome) {
      pushSteps.inc({ outcome });
    },
    observeRequest(labels, seconds) {
      requests.inc({ method: labels.method, route: labels.route, status: String(labels.status) });
      latency.observe({ method: labels.method, route: labels.route }, seconds);
    },
    observeSyncRun(report, where) {
      syncRuns.inc({ tenant: where.tenant, source: report.source, provider: report.provider, status: report.status });
      syncDuration.observe({ provider: report.provider }, report.duration_ms / 1000);
      const total = Object.values(report.requests_by_endpoint).reduce((a, b) => a + b, 0);
      providerRequests.inc({ provider: report.provider }, total);
      provider429.inc({ provider: report.provider }, report.throttled_429);
      for (const change of ['created', 'updated', 'deleted'] as const) {
        certificates.inc({ provider: report.provider, change }, report.certificates[change]);
      }
    },
  };
}
