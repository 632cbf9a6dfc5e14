import { sql, type Kysely } from 'kysely';

/**
 * The sync engine and identity resolution: lock holders name their run, full scans remember when they began
 * (so a resumed scan sweeps against the scan's start, not the resuming run's), and suggested person matches.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sync_locks').addColumn('run_id', 'text').execute();
  await db.schema.alterTable('sync_locks').addColumn('acquired_at', 'text').execute();

  await db.schema
    .createTable('sync_scans')
    .addColumn('source_id', 'text', (c) => c.primaryKey().references('sources.id'))
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('person_suggestions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    // person_a < person_b, so a pair is one row whichever side found it.
    .addColumn('person_a', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('person_b', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('person_suggestions_pair_unique', ['tenant_id', 'person_a', 'person_b', 'reason'])
    .addCheckConstraint('person_suggestions_status_check', sql`status in ('open', 'merged', 'rejected')`)
    .addCheckConstraint('person_suggestions_order_check', sql`person_a < person_b`)
    .execute();
  await db.schema
    .createIndex('person_suggestions_status_idx')
    .on('person_suggestions')
    .columns(['tenant_id', 'status', 'created_at'])
    .execute();
  await db.schema.createIndex('person_suggestions_b_idx').on('person_suggestions').column('person_b').execute();

  // Certificates not yet linked to a person, per source (linking catches up on them).
  await db.schema
    .createIndex('certificates_unlinked_idx')
    .on('certificates')
    .columns(['source_id', 'id'])
    .where(sql.ref('person_id'), 'is', null)
    .execute();
}
