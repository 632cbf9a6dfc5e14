/**
 * Delivers the outbox's webhook rows (Standard Webhooks 1.0): claims due deliveries, POSTs each event signed with the
 * endpoint's secret(s), records the outcome, and retries with exponential backoff and jitter over about three days.
 * Runs inside `certhub serve`; several processes may run it on one PostgreSQL store (claims skip locked rows).
 *
 * An attempt succeeds only on a 2xx within 15 s. Redirects are never followed (a 3xx is a failed attempt). A 410 Gone
 * disables the endpoint. Every connection goes through the egress policy, checked on the address connected.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { readHead } from '../providers/http/body.ts';
import { guardedConnector } from '../providers/http/client.ts';
import { createEgressGuard, egressRefusal, type EgressPolicy, type Resolve } from '../providers/http/egress.ts';
import { networkReason, parseRetryAfter } from '../providers/http/retry.ts';
import type { AttemptOutcome, ClaimedDelivery, Store, WebhookSecrets } from '../store/index.ts';
import { eventBody } from './catalog.ts';
import { createWorkerLoop } from './loop.ts';

/** Waits before attempt 2, 3, ...: about three days in all (Standard Webhooks' suggested schedule, stretched). */
export const RETRY_SCHEDULE_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 14 * 3600_000, 20 * 3600_000, 24 * 3600_000];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;
export const DELIVERY_TIMEOUT_MS = 15_000;
/** A Retry-After longer than this is cut to it. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;
const RESPONSE_KEEP = 1024;

export interface WebhookWorkerOptions {
  store: Store;
  logger?: Logger;
  egress?: EgressPolicy;
  /** Tests: a resolver for host names (the egress guard's). */
  resolve?: Resolve;
  now?: () => Date;
  random?: () => number;
  /** Deliveries claimed (and sent in parallel) at a time; default 20. */
  batch?: number;
  /** How long a claim holds before another worker may take it over; default 60 s (four times the attempt deadline). */
  leaseMs?: number;
  /** Longest sleep between looks at the outbox; default 1 s. */
  pollMs?: number;
  timeoutMs?: number;
  /** Told of every attempt (the hub counts them in /metrics). */
  onAttempt?: (outcome: AttemptOutcome['kind'], latencyMs: number | null) => void;
  /** How often the running loop makes the pass of time-driven events (expiring, expired); default 60 s. */
  timeEventsEveryMs?: number;
}

export interface WebhookWorker {
  /** One claim-and-deliver pass; the number of deliveries attempted. */
  runOnce(): Promise<number>;
  /** Looks at the outbox now instead of at the next poll (after a write that queued deliveries). */
  wake(): void;
  start(): void;
  stop(): Promise<void>;
}

/** The webhook-signature header: `v1,<base64>` per secret in force, space-separated (the new one first). */
export function signatures(secrets: WebhookSecrets, id: string, at: Date, body: string): string {
  const keys = [secrets.current];
  if (secrets.previous !== null && secrets.previous_until !== null && Date.parse(secrets.previous_until) > at.getTime()) keys.push(secrets.previous);
  return keys.map((k) => new Webhook(k).sign(id, at, body)).join(' ');
}

/** When the next attempt is due after `attempts` failed ones: the schedule with ±10% jitter, or a longer Retry-After. */
export function nextAttemptDelay(attempts: number, retryAfterMs: number | null, random: () => number): number | null {
  if (attempts >= MAX_ATTEMPTS) return null;
  const base = RETRY_SCHEDULE_MS[attempts - 1] ?? RETRY_SCHEDULE_MS[RETRY_SCHEDULE_MS.length - 1]!;
  const jittered = Math.round(base * (0.9 + 0.2 * random()));
  return retryAfterMs === null ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

export function createWebhookWorker(opts: WebhookWorkerOptions): WebhookWorker {
  const { store, logger } = opts;
  const now = opts.now ?? (() => new Date());
  const random = opts.random ?? Math.random;
  const batch = opts.batch ?? 20;
  const leaseMs = opts.leaseMs ?? 60_000;
  const pollMs = opts.pollMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const guard = createEgressGuard({ ...(opts.egress === undefined ? {} : { policy: opts.egress }), ...(opts.resolve === undefined ? {} : { resolve: opts.resolve }) });
  const agent = new Agent({ connect: guardedConnector(guard, Math.min(10_000, timeoutMs)), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });

  async function attempt(d: ClaimedDelivery, sentAt: Date): Promise<AttemptOutcome> {
    const body = eventBody(d.event);
    const started = performance.now();
    const retryOrFail = (error: string, status: number | null, response: string | null, retryAfterMs: number | null): AttemptOutcome => {
      const attempts = d.attempts + 1;
      const wait = nextAttemptDelay(attempts, retryAfterMs, random);
      const latency = Math.round(performance.now() - started);
      if (wait === null) return { kind: 'failed', status_code: status, latency_ms: latency, response, error: `${error} (gave up after ${attempts} attempts)` };
      return { kind: 'retry', status_code: status, latency_ms: latency, response, error, next_attempt_at: new Date(sentAt.getTime() + wait).toISOString() };
    };
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const res = await request(d.endpoint.url, {
        method: 'POST',
        dispatcher: agent,
        signal: deadline,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'certhub-webhooks/1',
          'webhook-id': d.event.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signatures(d.endpoint.secrets, d.event.id, sentAt, body),
        },
        body,
      });
      const response = (await readHead(res.body, RESPONSE_KEEP, () => undefined)).slice(0, RESPONSE_KEEP);
      const latency = Math.round(performance.now() - started);
      const status = res.statusCode;
      if (status >= 200 && status < 300) return { kind: 'succeeded', status_code: status, latency_ms: latency, response };
      if (status === 410) {
        return {
          kind: 'failed',
          status_code: status,
          latency_ms: latency,
          response,
          error: 'the endpoint answered 410 Gone',
          disable: 'the endpoint answered 410 Gone',
        };
      }
      const headers = res.headers as Record<string, string | string[] | undefined>;
      const what = status >= 300 && status < 400 ? `answered HTTP ${status} (a redirect; certhub never follows them)` : `answered HTTP ${status}`;
      const retryAfter = status === 429 || status === 503 ? parseRetryAfter(headers['retry-after'], sentAt.getTime()) : null;
      return retryOrFail(what, status, response, retryAfter);
    } catch (err) {
      const refused = egressRefusal(err);
      if (refused !== null) {
        return retryOrFail("certhub's egress policy refused the connection (the address is not public; see outbound.allow_private)", null, null, null);
      }
      if (deadline.aborted) return retryOrFail(`no answer within ${Math.round(timeoutMs / 1000)} s`, null, null, null);
      return retryOrFail(networkReason(err), null, null, null);
    }
  }

  async function runOnce(): Promise<number> {
    const claimed = await store.webhooks.claimDue(owner, { now: now(), limit: batch, leaseMs });
    await Promise.all(
      claimed.map(async (d) => {
        // The attempt is recorded at the instant it was sent (the wait before the next one counts from there).
        const sentAt = now();
        const outcome = await attempt(d, sentAt);
        const kept = await store.webhooks.recordAttempt(d.id, owner, outcome, { now: sentAt });
        opts.onAttempt?.(outcome.kind, outcome.latency_ms);
        logger?.info(
          { delivery: d.id, event: d.event.id, type: d.event.type, endpoint: d.endpoint.id, outcome: outcome.kind, status: outcome.status_code, kept },
          'webhook delivery',
        );
      }),
    );
    return claimed.length;
  }

  const timeEventsEveryMs = opts.timeEventsEveryMs ?? 60_000;
  let lastTimePass = Number.NEGATIVE_INFINITY;
  /** The scheduled pass of time-driven events, at most every timeEventsEveryMs (once at start). */
  async function timePass(): Promise<void> {
    const at = now();
    if (at.getTime() - lastTimePass < timeEventsEveryMs) return;
    lastTimePass = at.getTime();
    const told = await store.webhooks.recordTimeEvents(at);
    if (told.expiring + told.expired > 0) logger?.info(told, 'time-driven certificate events recorded');
  }

  const loop = createWorkerLoop({
    pass: async () => {
      await timePass();
      return runOnce();
    },
    pollMs,
    ...(logger === undefined ? {} : { logger }),
    what: 'webhook worker pass',
    onStopped: () => agent.close(),
  });
  return { runOnce, ...loop };
}
