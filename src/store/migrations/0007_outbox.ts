import { sql, type Kysely } from 'kysely';

/**
 * Issue 16: the outbox. `events` is the catalogue of what happened (thin payloads with ids), `webhook_endpoints` the
 * tenants' receivers, and `outbox` one row per outbound action (today: a webhook delivery of one event to one
 * endpoint), written in the same transaction as the change that caused it and delivered by the worker loop.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    // JSON array of event types; [] means every type.
    .addColumn('event_types_json', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    // SecretBox token of {"current": "whsec_...", "previous": "whsec_..." | null, "previous_until": ISO | null}.
    .addColumn('secrets_ciphertext', 'text', (c) => c.notNull())
    // Why certhub disabled it (410 Gone, failing for days); null when enabled or disabled by a person.
    .addColumn('disabled_reason', 'text')
    // The first failure since the last success; null while it succeeds.
    .addColumn('failing_since', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_endpoints_tenant_idx').on('webhook_endpoints').columns(['tenant_id', 'created_at']).execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('data_json', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_tenant_idx').on('events').columns(['tenant_id', 'occurred_at']).execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    // webhook: the endpoint id.
    .addColumn('target_id', 'text', (c) => c.notNull())
    // webhook: the event id (also the webhook-id header, the same on every attempt and redelivery).
    .addColumn('subject_id', 'text', (c) => c.notNull())
    // Unique per effect, so writing the same action twice (a retried transaction) stores it once.
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'text')
    .addColumn('last_attempt_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_latency_ms', 'integer')
    // The first 1 KB of the last answer's body.
    .addColumn('last_response', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addUniqueConstraint('outbox_idempotency_unique', ['idempotency_key'])
    .addCheckConstraint('outbox_status_check', sql`status in ('pending', 'delivering', 'succeeded', 'failed', 'cancelled')`)
    .execute();
  // The worker's claim: due rows in order.
  await db.schema.createIndex('outbox_due_idx').on('outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('outbox_target_idx').on('outbox').columns(['target_id', 'created_at']).execute();

  // Time-driven events (certificate.expiring / expired) already produced: once per certificate, kind and end date.
  await db.schema
    .createTable('event_notices')
    .addColumn('certificate_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('valid_until', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_notices_pk', ['certificate_id', 'kind', 'valid_until'])
    .execute();
}
