/**
 * `certhub webhooks list|test|replay`: the tenant's webhook endpoints, a test event delivered from this process, and
 * failed events queued once more. Endpoints are created and changed through the API or the web UI.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { createWebhookWorker } from '../../outbound/webhook-worker.ts';
import { DEFAULT_TENANT_SLUG, type WebhookDelivery, type WebhookEndpoint } from '../../store/index.ts';
import { withTenant } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';

interface WebhooksOptions extends GlobalOptions {
  tenant?: string;
  json?: boolean;
  since?: string;
}

/** How long `webhooks test` waits for the outcome of its one attempt (the attempt itself ends within 15 s). */
const TEST_WAIT_MS = 30_000;

function endpointLine(e: WebhookEndpoint, failed: number): string {
  const state = e.enabled ? 'enabled' : `disabled${e.disabled_reason === null ? '' : ` (${e.disabled_reason})`}`;
  const types = e.event_types.length === 0 ? 'every event' : e.event_types.join(',');
  const failing = e.failing_since === null ? '' : `, failing since ${e.failing_since}`;
  const description = e.description === null ? '' : `  ${e.description}`;
  return `${e.id}  ${e.url}  ${state}  ${types}  ${failed} failed${failing}${description}`;
}

function deliveryOutcome(d: WebhookDelivery, url: string): string {
  const code = d.last_status_code === null ? '' : `HTTP ${d.last_status_code}, `;
  const latency = d.last_latency_ms === null ? '' : `${d.last_latency_ms} ms`;
  if (d.status === 'succeeded') return `delivered ${d.event_id} to ${url}: ${code}${latency}`;
  const next = d.status === 'pending' && d.next_attempt_at !== null ? `; next attempt at ${d.next_attempt_at}` : '';
  return `not delivered to ${url}: ${d.last_error ?? d.status}${latency === '' ? '' : ` after ${latency}`}${next}`;
}

export function registerWebhooksCommand(program: Command, rt: CliRuntime): void {
  const webhooks = program.command('webhooks').description('webhook endpoints: list them, send a test event, replay failed events');
  const tenantOption = ['--tenant <slug>', `the tenant (default: ${DEFAULT_TENANT_SLUG})`] as const;

  webhooks
    .command('list')
    .description("list the tenant's webhook endpoints with their state and failed deliveries (never their secrets)")
    .option(...tenantOption)
    .option('--json', 'print a JSON array')
    .action(async (_o: WebhooksOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<WebhooksOptions>();
      await withTenant(opts, async (store, tenant) => {
        const endpoints = await store.webhooks.listEndpoints(tenant.id);
        const failed = await Promise.all(endpoints.map((e) => store.webhooks.countFailed(tenant.id, e.id)));
        if (opts.json === true) {
          rt.out(JSON.stringify(endpoints.map(({ tenant_id: _t, ...e }, i) => ({ ...e, failed_deliveries: failed[i] }))));
          return;
        }
        rt.out(endpoints.length === 0 ? `no webhook endpoints for tenant ${tenant.slug}` : endpoints.map((e, i) => endpointLine(e, failed[i]!)).join('\n'));
      });
    });

  webhooks
    .command('test')
    .description('send a webhook.test event to an endpoint now, from this process, and say how it went (exit 1 when it failed)')
    .argument('<endpoint-id>', 'the endpoint id (from webhooks list)')
    .option(...tenantOption)
    .option('--json', 'print the delivery as JSON')
    .action(async (id: string, _o: WebhooksOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<WebhooksOptions>();
      await withTenant(opts, async (store, tenant, config) => {
        const endpoint = await store.webhooks.getEndpoint(tenant.id, id);
        if (endpoint === null) throw new AppError('not_found', `webhook endpoint ${id} not found`);
        const queued = await store.webhooks.queueTest(tenant.id, id);
        // Delivered from here (a running `certhub serve` may take it first; then its outcome is read back).
        const worker = createWebhookWorker({ store, egress: config.outbound });
        let delivery = queued;
        try {
          const deadline = Date.now() + TEST_WAIT_MS;
          while (Date.now() < deadline) {
            await worker.runOnce();
            delivery = (await store.webhooks.getDelivery(tenant.id, queued.id)) ?? delivery;
            if (delivery.status === 'succeeded' || delivery.status === 'failed' || delivery.attempts > 0) break;
            await delay(200);
          }
        } finally {
          await worker.stop();
        }
        if (opts.json === true) rt.out(JSON.stringify(delivery));
        const outcome = delivery.attempts === 0 ? `queued ${delivery.id}; not attempted within ${TEST_WAIT_MS / 1000} s` : deliveryOutcome(delivery, endpoint.url);
        // A failed test is the command failing: one line on stderr, exit code 1.
        if (delivery.status !== 'succeeded') throw new AppError('provider_error', outcome);
        if (opts.json !== true) rt.out(outcome);
      });
    });

  webhooks
    .command('replay')
    .description('queue once more every event that failed to reach an endpoint (same webhook-ids); `certhub serve` delivers them')
    .argument('<endpoint-id>', 'the endpoint id (from webhooks list)')
    .option('--since <instant>', 'only failures from this instant on (ISO 8601, e.g. 2026-12-01T00:00:00Z)')
    .option(...tenantOption)
    .option('--json', 'print the queued deliveries as a JSON array')
    .action(async (id: string, _o: WebhooksOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<WebhooksOptions>();
      let since: string | undefined;
      if (opts.since !== undefined) {
        const parsed = z.iso.datetime({ offset: true }).safeParse(opts.since);
        if (!parsed.success) throw new AppError('invalid_request', `--since must be an ISO 8601 instant with a time zone, e.g. 2026-12-01T00:00:00Z`);
        since = new Date(parsed.data).toISOString();
      }
      await withTenant(opts, async (store, tenant) => {
        const queued = await store.webhooks.replayFailed(tenant.id, id, since === undefined ? {} : { since });
        if (opts.json === true) rt.out(JSON.stringify(queued));
        else rt.out(queued.length === 0 ? 'no failed events to replay' : `queued ${queued.length} failed event${queued.length === 1 ? '' : 's'} again; a running certhub serve delivers them`);
      });
    });
}
