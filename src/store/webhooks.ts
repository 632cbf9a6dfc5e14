/**
 * Webhook endpoints (per tenant, each with its own whsec_ secret, encrypted) and their deliveries: outbox rows of kind
 * `webhook`, claimed by the delivery worker (FOR UPDATE SKIP LOCKED on PostgreSQL, so several processes share the
 * work; one writer at a time on SQLite).
 */
import { recordTimeEvents, type TimeEventsResult } from './time-events.ts';
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { EventType } from '../outbound/catalog.ts';
import { isoNow, type StoreContext } from './context.ts';
import { newDelivery, nextDueOf, WEBHOOK_KIND } from './events.ts';
import type { OutboxTable, WebhookEndpointsTable } from './schema.ts';
import { webhookSecretsPlace } from './secret-places.ts';

export interface WebhookEndpoint {
  id: string;
  tenant_id: string;
  url: string;
  description: string | null;
  /** [] = every type. */
  event_types: EventType[];
  enabled: boolean;
  /** Why certhub disabled it (410 Gone, failing for days); null otherwise. */
  disabled_reason: string | null;
  failing_since: string | null;
  /** While a rotated-out secret is still accepted (both signatures are sent until then); null otherwise. */
  previous_secret_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookSecrets {
  current: string;
  /** The secret before the last rotation, still signed with until `previous_until`. */
  previous: string | null;
  previous_until: string | null;
}

export type DeliveryStatus = 'pending' | 'delivering' | 'succeeded' | 'failed' | 'cancelled';

export interface WebhookDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  /** The first 1 KB of the last answer's body. */
  last_response: string | null;
  created_at: string;
  finished_at: string | null;
}

/** A delivery the worker holds: what to send, where, signed with what. */
export interface ClaimedDelivery {
  id: string;
  tenant_id: string;
  attempts: number;
  endpoint: { id: string; url: string; secrets: WebhookSecrets };
  event: { id: string; type: string; occurred_at: string; data: unknown };
}

export type AttemptOutcome =
  | { kind: 'succeeded'; status_code: number; latency_ms: number; response: string | null }
  | {
      kind: 'retry' | 'failed';
      status_code: number | null;
      latency_ms: number | null;
      response: string | null;
      error: string;
      /** retry: when to try again. */
      next_attempt_at?: string;
      /** Disable the endpoint with this reason (410 Gone). */
      disable?: string;
    };

export interface NewWebhookEndpoint {
  url: string;
  description?: string | null;
  event_types?: EventType[];
  enabled?: boolean;
}

export interface WebhookEndpointPatch {
  url?: string;
  description?: string | null;
  event_types?: EventType[];
  enabled?: boolean;
}

/** An endpoint failing without a single success for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3600_000;
/** After a rotation the previous secret is still signed with for this long, so receivers can switch. */
export const PREVIOUS_SECRET_MS = 24 * 3600_000;

export interface WebhookRepository {
  /** Creates the endpoint with a fresh secret; the secret is returned here and by getSecrets only. */
  createEndpoint(tenantId: string, input: NewWebhookEndpoint, opts?: { now?: Date }): Promise<{ endpoint: WebhookEndpoint; secret: string }>;
  listEndpoints(tenantId: string): Promise<WebhookEndpoint[]>;
  getEndpoint(tenantId: string, id: string): Promise<WebhookEndpoint | null>;
  /** Re-enabling clears disabled_reason and failing_since. AppError('not_found') for another tenant's or unknown. */
  updateEndpoint(tenantId: string, id: string, patch: WebhookEndpointPatch, opts?: { now?: Date }): Promise<WebhookEndpoint>;
  /** Deletes the endpoint and its deliveries; false when there was none. */
  deleteEndpoint(tenantId: string, id: string): Promise<boolean>;
  getSecrets(tenantId: string, id: string): Promise<WebhookSecrets | null>;
  /** A new current secret; the old one is still signed with for PREVIOUS_SECRET_MS. */
  rotateSecret(tenantId: string, id: string, opts?: { now?: Date }): Promise<{ endpoint: WebhookEndpoint; secret: string }>;
  /** Newest first; `cursor` is the last id of the previous page. */
  listDeliveries(
    tenantId: string,
    endpointId: string,
    query?: { limit?: number; cursor?: string | null; status?: DeliveryStatus },
  ): Promise<{ items: WebhookDelivery[]; next_cursor: string | null }>;
  getDelivery(tenantId: string, id: string): Promise<WebhookDelivery | null>;
  /** A new delivery of the same event to the same endpoint (same webhook-id), due now. */
  redeliver(tenantId: string, deliveryId: string, opts?: { now?: Date }): Promise<WebhookDelivery>;
  /** Redelivers every failed delivery of the endpoint created since `since` (all when absent); returns the new ones. */
  replayFailed(tenantId: string, endpointId: string, opts?: { since?: string; now?: Date }): Promise<WebhookDelivery[]>;
  /** A webhook.test event queued for this endpoint only. */
  queueTest(tenantId: string, endpointId: string, opts?: { now?: Date }): Promise<WebhookDelivery>;
  /**
   * The scheduled pass of time-driven events (certificate.expiring, certificate.expired) at `now`: each once per
   * certificate and end date, across tenants, also after downtime (time-events.ts).
   */
  recordTimeEvents(now: Date, opts?: { warnDays?: number; lookbackDays?: number }): Promise<TimeEventsResult>;
  /** Events that failed to reach an endpoint (of the tenant, or that one) and are not on their way again: the overview's count. */
  countFailed(tenantId: string, endpointId?: string): Promise<number>;

  /** The worker's claim: up to `limit` due deliveries of enabled endpoints, held by `owner` for `leaseMs`. */
  claimDue(owner: string, opts: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedDelivery[]>;
  /** Records an attempt of a claimed delivery; false when `owner` no longer holds it (its lease ran out). */
  recordAttempt(id: string, owner: string, outcome: AttemptOutcome, opts: { now: Date }): Promise<boolean>;
  /** The earliest next_attempt_at of a pending delivery (to sleep until), or null. */
  nextDue(): Promise<string | null>;
}

function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

function toEndpoint(row: WebhookEndpointsTable, secrets: WebhookSecrets): WebhookEndpoint {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    url: row.url,
    description: row.description,
    event_types: JSON.parse(row.event_types_json) as EventType[],
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason,
    failing_since: row.failing_since,
    previous_secret_until: secrets.previous === null ? null : secrets.previous_until,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

type DeliveryRow = OutboxTable & { event_type: string };

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    endpoint_id: row.target_id,
    event_id: row.subject_id,
    event_type: row.event_type,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
    last_attempt_at: row.last_attempt_at,
    last_status_code: row.last_status_code === null ? null : Number(row.last_status_code),
    last_latency_ms: row.last_latency_ms === null ? null : Number(row.last_latency_ms),
    last_error: row.last_error,
    last_response: row.last_response,
    created_at: row.created_at,
    finished_at: row.finished_at,
  };
}

export function createWebhookRepository(ctx: StoreContext): WebhookRepository {
  const { db, box } = ctx;
  const seal = (tenantId: string, id: string, secrets: WebhookSecrets): string =>
    box.encrypt(JSON.stringify(secrets), webhookSecretsPlace(tenantId, id));
  const open = (row: Pick<WebhookEndpointsTable, 'tenant_id' | 'id' | 'secrets_ciphertext'>): WebhookSecrets =>
    JSON.parse(box.decrypt(row.secrets_ciphertext, webhookSecretsPlace(row.tenant_id, row.id))) as WebhookSecrets;

  const endpointRow = (tenantId: string, id: string) =>
    db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  const mustEndpoint = async (tenantId: string, id: string) => {
    const row = await endpointRow(tenantId, id);
    if (row === undefined) throw new AppError('not_found', `webhook endpoint ${id} not found`);
    return row;
  };
  /** An endpoint that takes deliveries now: queuing one for a disabled endpoint would only leave it waiting. */
  const mustEnabled = async (tenantId: string, id: string) => {
    const row = await mustEndpoint(tenantId, id);
    if (row.enabled !== 1) {
      const why = row.disabled_reason === null ? 'it is disabled' : `certhub disabled it: ${row.disabled_reason}`;
      throw new AppError('conflict', `webhook endpoint ${id} takes no deliveries: ${why}; enable it first (PATCH enabled: true)`);
    }
    return row;
  };
  /** Failed deliveries whose event has not been delivered since nor is on its way again to that endpoint. */
  const openFailures = (tenantId: string) =>
    db
      .selectFrom('outbox as f')
      .where('f.tenant_id', '=', tenantId)
      .where('f.kind', '=', WEBHOOK_KIND)
      .where('f.status', '=', 'failed')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('outbox as o')
              .select('o.id')
              .whereRef('o.subject_id', '=', 'f.subject_id')
              .whereRef('o.target_id', '=', 'f.target_id')
              .where('o.kind', '=', WEBHOOK_KIND)
              .where('o.status', 'in', ['pending', 'delivering', 'succeeded']),
          ),
        ),
      );
  const deliveries = () =>
    db
      .selectFrom('outbox')
      .innerJoin('events', 'events.id', 'outbox.subject_id')
      .selectAll('outbox')
      .select('events.type as event_type')
      .where('outbox.kind', '=', WEBHOOK_KIND);
  const mustDelivery = async (tenantId: string, id: string) => {
    const row = await deliveries().where('outbox.tenant_id', '=', tenantId).where('outbox.id', '=', id).executeTakeFirst();
    if (row === undefined) throw new AppError('not_found', `webhook delivery ${id} not found`);
    return toDelivery(row);
  };
  const insertRedelivery = async (tenantId: string, endpointId: string, eventId: string, now: string) => {
    const row = newDelivery(ctx, tenantId, endpointId, eventId, now);
    row.idempotency_key = `webhook:${eventId}:${endpointId}:redelivery:${row.id}`;
    await db.insertInto('outbox').values(row).execute();
    return row.id;
  };

  const repo: WebhookRepository = {
    async createEndpoint(tenantId, input, opts) {
      const now = isoNow(opts?.now);
      const id = ctx.newId();
      const secret = newSecret();
      const secrets: WebhookSecrets = { current: secret, previous: null, previous_until: null };
      const row: WebhookEndpointsTable = {
        id,
        tenant_id: tenantId,
        url: input.url,
        description: input.description ?? null,
        event_types_json: JSON.stringify(input.event_types ?? []),
        enabled: input.enabled === false ? 0 : 1,
        secrets_ciphertext: seal(tenantId, id, secrets),
        disabled_reason: null,
        failing_since: null,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto('webhook_endpoints').values(row).execute();
      return { endpoint: toEndpoint(row, secrets), secret };
    },

    async listEndpoints(tenantId) {
      const rows = await db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
      return rows.map((r) => toEndpoint(r, open(r)));
    },

    async getEndpoint(tenantId, id) {
      const row = await endpointRow(tenantId, id);
      return row === undefined ? null : toEndpoint(row, open(row));
    },

    async updateEndpoint(tenantId, id, patch, opts) {
      const now = isoNow(opts?.now);
      const row = await mustEndpoint(tenantId, id);
      const next: WebhookEndpointsTable = {
        ...row,
        url: patch.url ?? row.url,
        description: patch.description === undefined ? row.description : patch.description,
        event_types_json: patch.event_types === undefined ? row.event_types_json : JSON.stringify(patch.event_types),
        enabled: patch.enabled === undefined ? row.enabled : patch.enabled ? 1 : 0,
        updated_at: now,
      };
      if (patch.enabled === true && row.enabled === 0) {
        next.disabled_reason = null;
        next.failing_since = null;
      }
      if (patch.enabled === false) next.disabled_reason = null;
      await db.updateTable('webhook_endpoints').set(next).where('id', '=', id).where('tenant_id', '=', tenantId).execute();
      return toEndpoint(next, open(next));
    },

    async deleteEndpoint(tenantId, id) {
      return db.transaction().execute(async (trx) => {
        const gone = await trx.deleteFrom('webhook_endpoints').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        if (Number(gone.numDeletedRows) === 0) return false;
        await trx.deleteFrom('outbox').where('kind', '=', WEBHOOK_KIND).where('target_id', '=', id).execute();
        return true;
      });
    },

    async getSecrets(tenantId, id) {
      const row = await endpointRow(tenantId, id);
      return row === undefined ? null : open(row);
    },

    async rotateSecret(tenantId, id, opts) {
      const now = opts?.now ?? new Date();
      const row = await mustEndpoint(tenantId, id);
      const secret = newSecret();
      const secrets: WebhookSecrets = {
        current: secret,
        previous: open(row).current,
        previous_until: new Date(now.getTime() + PREVIOUS_SECRET_MS).toISOString(),
      };
      const next = { ...row, secrets_ciphertext: seal(tenantId, id, secrets), updated_at: now.toISOString() };
      await db.updateTable('webhook_endpoints').set(next).where('id', '=', id).execute();
      return { endpoint: toEndpoint(next, secrets), secret };
    },

    async listDeliveries(tenantId, endpointId, query) {
      const limit = Math.min(Math.max(query?.limit ?? 100, 1), 1000);
      let q = deliveries().where('outbox.tenant_id', '=', tenantId).where('outbox.target_id', '=', endpointId);
      if (query?.status !== undefined) q = q.where('outbox.status', '=', query.status);
      if (query?.cursor) q = q.where('outbox.id', '<', query.cursor);
      const rows = await q.orderBy('outbox.id', 'desc').limit(limit + 1).execute();
      const items = rows.slice(0, limit).map(toDelivery);
      return { items, next_cursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
    },

    async getDelivery(tenantId, id) {
      const row = await deliveries().where('outbox.tenant_id', '=', tenantId).where('outbox.id', '=', id).executeTakeFirst();
      return row === undefined ? null : toDelivery(row);
    },

    async redeliver(tenantId, deliveryId, opts) {
      const old = await mustDelivery(tenantId, deliveryId);
      await mustEnabled(tenantId, old.endpoint_id);
      return mustDelivery(tenantId, await insertRedelivery(tenantId, old.endpoint_id, old.event_id, isoNow(opts?.now)));
    },

    async replayFailed(tenantId, endpointId, opts) {
      await mustEnabled(tenantId, endpointId);
      const now = isoNow(opts?.now);
      let q = openFailures(tenantId).select(['f.id', 'f.subject_id']).where('f.target_id', '=', endpointId);
      if (opts?.since !== undefined) q = q.where('f.created_at', '>=', opts.since);
      const failed = await q.orderBy('f.id').execute();
      // One redelivery per event, however many times it failed.
      const events = [...new Set(failed.map((f) => f.subject_id))];
      const ids: string[] = [];
      for (const eventId of events) ids.push(await insertRedelivery(tenantId, endpointId, eventId, now));
      return Promise.all(ids.map((id) => mustDelivery(tenantId, id)));
    },

    async queueTest(tenantId, endpointId, opts) {
      const now = isoNow(opts?.now);
      const endpoint = await mustEnabled(tenantId, endpointId);
      const eventId = `evt_${ctx.newId()}`;
      const delivery = newDelivery(ctx, tenantId, endpointId, eventId, now);
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('events')
          .values({
            id: eventId,
            tenant_id: tenantId,
            type: 'webhook.test',
            occurred_at: now,
            data_json: JSON.stringify({ endpoint_id: endpoint.id, message: 'a test event from certhub' }),
          })
          .execute();
        await trx.insertInto('outbox').values(delivery).execute();
      });
      return mustDelivery(tenantId, delivery.id);
    },

    recordTimeEvents: (now, opts) => recordTimeEvents(ctx, now, opts),

    async countFailed(tenantId, endpointId) {
      let q = openFailures(tenantId);
      if (endpointId !== undefined) q = q.where('f.target_id', '=', endpointId);
      const row = await q
        .select((eb) => eb.fn.count<number>('f.subject_id').distinct().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async claimDue(owner, opts) {
      const now = opts.now.toISOString();
      const until = new Date(opts.now.getTime() + opts.leaseMs).toISOString();
      const claimed = await db.transaction().execute(async (trx) => {
        const due = await trx
          .selectFrom('outbox')
          .innerJoin('webhook_endpoints as e', 'e.id', 'outbox.target_id')
          .select('outbox.id')
          .where('outbox.kind', '=', WEBHOOK_KIND)
          .where('e.enabled', '=', 1)
          .where((eb) =>
            eb.or([
              eb.and([eb('outbox.status', '=', 'pending'), eb('outbox.next_attempt_at', '<=', now)]),
              // A claim whose holder died (SIGKILL) mid-attempt: due again once its lease ran out.
              eb.and([eb('outbox.status', '=', 'delivering'), eb('outbox.claimed_until', '<', now)]),
            ]),
          )
          .orderBy('outbox.next_attempt_at')
          .limit(opts.limit)
          .$if(ctx.dialect === 'postgres', (q) => q.forUpdate('outbox').skipLocked())
          .execute();
        if (due.length === 0) return [];
        const ids = due.map((d) => d.id);
        await trx.updateTable('outbox').set({ status: 'delivering', claimed_by: owner, claimed_until: until }).where('id', 'in', ids).execute();
        return trx
          .selectFrom('outbox')
          .innerJoin('webhook_endpoints as e', 'e.id', 'outbox.target_id')
          .innerJoin('events as ev', 'ev.id', 'outbox.subject_id')
          .select([
            'outbox.id',
            'outbox.tenant_id',
            'outbox.attempts',
            'outbox.subject_id',
            'e.id as endpoint_id',
            'e.url',
            'e.secrets_ciphertext',
            'ev.type',
            'ev.occurred_at',
            'ev.data_json',
          ])
          .where('outbox.id', 'in', ids)
          .execute();
      });
      return claimed.map((r) => ({
        id: r.id,
        tenant_id: r.tenant_id,
        attempts: Number(r.attempts),
        endpoint: { id: r.endpoint_id, url: r.url, secrets: open({ tenant_id: r.tenant_id, id: r.endpoint_id, secrets_ciphertext: r.secrets_ciphertext }) },
        event: { id: r.subject_id, type: r.type, occurred_at: r.occurred_at, data: JSON.parse(r.data_json) as unknown },
      }));
    },

    async recordAttempt(id, owner, outcome, opts) {
      const now = opts.now.toISOString();
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('outbox')
          .select(['target_id', 'attempts'])
          .where('id', '=', id)
          .where('claimed_by', '=', owner)
          .where('status', '=', 'delivering')
          .executeTakeFirst();
        if (row === undefined) return false;
        const finished = outcome.kind !== 'retry';
        await trx
          .updateTable('outbox')
          .set({
            status: outcome.kind === 'retry' ? 'pending' : outcome.kind,
            attempts: Number(row.attempts) + 1,
            next_attempt_at: outcome.kind === 'retry' ? (outcome.next_attempt_at ?? now) : now,
            claimed_by: null,
            claimed_until: null,
            last_attempt_at: now,
            last_status_code: outcome.status_code,
            last_latency_ms: outcome.latency_ms,
            last_response: outcome.response,
            last_error: outcome.kind === 'succeeded' ? null : outcome.error,
            finished_at: finished ? now : null,
          })
          .where('id', '=', id)
          .execute();
        const endpoint = await trx.selectFrom('webhook_endpoints').select(['failing_since', 'enabled']).where('id', '=', row.target_id).executeTakeFirst();
        if (endpoint === undefined) return true;
        if (outcome.kind === 'succeeded') {
          if (endpoint.failing_since !== null) await trx.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', '=', row.target_id).execute();
          return true;
        }
        const failingSince = endpoint.failing_since ?? now;
        let disable = outcome.disable ?? null;
        if (disable === null && Date.parse(now) - Date.parse(failingSince) >= DISABLE_AFTER_FAILING_MS) {
          disable = `every delivery failed for ${Math.round(DISABLE_AFTER_FAILING_MS / 86_400_000)} days (see failing_since; last: ${outcome.error})`;
        }
        await trx
          .updateTable('webhook_endpoints')
          .set(disable === null ? { failing_since: failingSince } : { failing_since: failingSince, enabled: 0, disabled_reason: disable, updated_at: now })
          .where('id', '=', row.target_id)
          .execute();
        return true;
      });
    },

    nextDue: () => nextDueOf(ctx, WEBHOOK_KIND),
  };
  return repo;
}
