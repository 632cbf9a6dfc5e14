/**
 * Events and the deliveries they cause, written inside the transaction of the change (the outbox pattern): a
 * committed change always has its deliveries queued, and a rolled-back one never has. Only events some enabled
 * endpoint of the tenant subscribes to are kept, so a tenant without webhooks pays one indexed read per write.
 */
import type { Transaction } from 'kysely';
import type { NewEvent } from '../outbound/catalog.ts';
import { chunk, ROWS_PER_STATEMENT, type StoreContext } from './context.ts';
import type { Database, EventsTable, OutboxTable } from './schema.ts';

type Trx = Transaction<Database>;

export const WEBHOOK_KIND = 'webhook';

/** The event types an endpoint row subscribes to; [] is every type (except webhook.test, sent to one endpoint only). */
export function subscribes(eventTypesJson: string, type: string): boolean {
  if (type === 'webhook.test') return false;
  const types = JSON.parse(eventTypesJson) as string[];
  return types.length === 0 || types.includes(type);
}

/** A new outbox row of `kind`, due now: every outbound action starts as one. */
export function newOutboxRow(
  ctx: StoreContext,
  row: { tenant_id: string; kind: string; target_id: string; subject_id: string; idempotency_key: string },
  now: string,
): OutboxTable {
  return {
    id: ctx.newId(),
    ...row,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    claimed_by: null,
    claimed_until: null,
    last_attempt_at: null,
    last_error: null,
    last_status_code: null,
    last_latency_ms: null,
    last_response: null,
    created_at: now,
    finished_at: null,
  };
}

/** The earliest next_attempt_at of a pending outbox row of `kind` (what its worker sleeps until), or null. */
export async function nextDueOf(ctx: StoreContext, kind: string): Promise<string | null> {
  const row = await ctx.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.min('next_attempt_at').as('at'))
    .where('kind', '=', kind)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return (row?.at as string | null | undefined) ?? null;
}

export function newDelivery(ctx: StoreContext, tenantId: string, endpointId: string, eventId: string, now: string, key?: string): OutboxTable {
  return newOutboxRow(
    ctx,
    { tenant_id: tenantId, kind: WEBHOOK_KIND, target_id: endpointId, subject_id: eventId, idempotency_key: key ?? `webhook:${eventId}:${endpointId}` },
    now,
  );
}

/**
 * Stores `events` of the tenant with a delivery per subscribed enabled endpoint, in `trx`. Returns how many
 * deliveries were queued (0 when nobody listens: then nothing is stored).
 */
export async function recordEvents(ctx: StoreContext, trx: Trx, tenantId: string, events: readonly NewEvent[], now: string): Promise<number> {
  if (events.length === 0) return 0;
  const endpoints = await trx
    .selectFrom('webhook_endpoints')
    .select(['id', 'event_types_json'])
    .where('tenant_id', '=', tenantId)
    .where('enabled', '=', 1)
    .execute();
  if (endpoints.length === 0) return 0;
  const eventRows: EventsTable[] = [];
  const deliveries: OutboxTable[] = [];
  for (const event of events) {
    const targets = endpoints.filter((e) => subscribes(e.event_types_json, event.type));
    if (targets.length === 0) continue;
    const id = `evt_${ctx.newId()}`;
    eventRows.push({ id, tenant_id: tenantId, type: event.type, occurred_at: event.occurred_at, data_json: JSON.stringify(event.data) });
    for (const target of targets) deliveries.push(newDelivery(ctx, tenantId, target.id, id, now));
  }
  for (const part of chunk(eventRows, ROWS_PER_STATEMENT)) await trx.insertInto('events').values(part).execute();
  for (const part of chunk(deliveries, ROWS_PER_STATEMENT)) await trx.insertInto('outbox').values(part).execute();
  return deliveries.length;
}

/** The thin payload of a certificate.* event: ids to fetch the certificate (GET /v1/certificates/{id}) and what changed. */
export function certificateEvent(
  type: NewEvent['type'],
  row: { id: string; source_id: string; external_id: string; person_id: string | null; status: string; valid_until: string | null },
  achievement: { type: string; external_id: string; code: string | null },
  provider: string,
  now: string,
): NewEvent {
  return {
    type,
    occurred_at: now,
    data: {
      certificate_id: row.id,
      source_id: row.source_id,
      provider,
      external_id: row.external_id,
      person_id: row.person_id,
      status: row.status,
      valid_until: row.valid_until,
      achievement,
    },
  };
}
