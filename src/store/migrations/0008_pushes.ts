import { sql, type Kysely } from 'kysely';

/**
 * Issue 16, pushes: `push_rules` say which certificates go where ("certificates satisfying requirement R, or matching
 * achievement X, from sources S, are pushed to Springest source P as certification C"); `pushes` is one row per
 * certificate and target (its idempotency key), with what was sent and what the target answered; `push_pacing` is the
 * next free posting slot per provider key, shared by every process on the store (Springest: 30 posts a minute a key).
 * The actions themselves are outbox rows of kind `push` (0007).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('push_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('paused', 'integer', (c) => c.notNull())
    // {"requirement_id": "..."} or {"achievement": {provider?, source?, type?, external_id?, code?}}
    .addColumn('match_json', 'text', (c) => c.notNull())
    // JSON array of source slugs the certificates come from; [] = any source.
    .addColumn('sources_json', 'text', (c) => c.notNull())
    .addColumn('target_source_id', 'text', (c) => c.notNull().references('sources.id'))
    // The target provider's options (Springest: certification_id; Open edX: program_uuid or course_run_key + mode).
    .addColumn('target_json', 'text', (c) => c.notNull())
    // What on the target, as the provider names it: 'certification:42', 'program:<uuid>', 'course_run:<key>'.
    .addColumn('target_key', 'text', (c) => c.notNull())
    // Open edX: email -> username for people without a linked Open edX identity.
    .addColumn('usernames_json', 'text', (c) => c.notNull())
    // 'api' or 'config' (certhub.yaml: re-applied on start).
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('push_rules_name_unique', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('pushes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('certificate_id', 'text', (c) => c.notNull().references('certificates.id'))
    .addColumn('target_source_id', 'text', (c) => c.notNull().references('sources.id'))
    // The rule's target_key when the push was planned.
    .addColumn('target_key', 'text', (c) => c.notNull())
    // What certhub wants there: 'present' or 'revoked'.
    .addColumn('desired', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    // The target's id of the pushed copy (Springest certificate id, Open edX credential uuid).
    .addColumn('remote_id', 'text')
    // What the last create sent (the match keys: email, certification, dates / username, credential).
    .addColumn('sent_json', 'text')
    // Set (and committed) before a create is sent, cleared when its outcome is known: a crash in between leaves it,
    // and the next attempt first looks at the target for what the lost one may have created.
    .addColumn('attempt_started_at', 'text')
    // awaiting_verification: when to give up.
    .addColumn('verify_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('pushed_at', 'text')
    .addColumn('verified_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('pushes_target_unique', ['certificate_id', 'target_source_id', 'target_key'])
    .addCheckConstraint('pushes_desired_check', sql`desired in ('present', 'revoked')`)
    .addCheckConstraint(
      'pushes_state_check',
      sql`state in ('queued', 'pushing', 'awaiting_verification', 'pushed', 'revoked', 'failed', 'cancelled')`,
    )
    .execute();
  await db.schema.createIndex('pushes_tenant_idx').on('pushes').columns(['tenant_id', 'state', 'updated_at']).execute();
  await db.schema.createIndex('pushes_remote_idx').on('pushes').columns(['target_source_id', 'remote_id']).execute();

  await db.schema
    .createTable('push_pacing')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('next_slot_at', 'text', (c) => c.notNull())
    .execute();
}
