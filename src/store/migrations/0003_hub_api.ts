import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * The hub API: API keys (only a hash is kept), requirements, the content-addressed PDF archive, person merges
 * (recorded so they can be undone), and the indexes the API's reads need at a million certificates.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const bytesType = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    // The first characters of the key, shown in lists so a person can tell keys apart; never enough to use.
    .addColumn('prefix', 'text', (c) => c.notNull())
    // sha256 of the whole key: keys are 32 random bytes, so a fast hash is as safe as a slow one here.
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .addUniqueConstraint('api_keys_hash_unique', ['key_hash'])
    .addCheckConstraint('api_keys_role_check', sql`role in ('read', 'admin')`)
    .execute();
  await db.schema.createIndex('api_keys_tenant_idx').on('api_keys').columns(['tenant_id', 'created_at']).execute();

  await db.schema
    .createTable('requirements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    // { any_of: [...achievement matchers], valid_months_without_end, warn_days }
    .addColumn('rule_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('requirements_name_unique', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('file_blobs')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    // In the database rather than on disk, so every process of a scaled-out deployment sees the same archive.
    .addColumn('bytes', bytesType, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('people').addColumn('merged_into', 'text').execute();
  await db.schema
    .createTable('person_merges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('into_person_id', 'text', (c) => c.notNull())
    .addColumn('from_person_id', 'text', (c) => c.notNull())
    // What moved, so unmerge moves exactly that back: { identity_ids: [...], certificate_ids: [...] }.
    .addColumn('moved_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('undone_at', 'text')
    .execute();
  await db.schema
    .createIndex('person_merges_from_idx')
    .on('person_merges')
    .columns(['tenant_id', 'from_person_id'])
    .execute();

  // People search by name; certificate lists filtered by source in (updated_at, id) order; as_of reads of history.
  await db.schema.createIndex('people_name_idx').on('people').columns(['tenant_id', 'display_name']).execute();
  await db.schema
    .createIndex('certificates_source_updated_idx')
    .on('certificates')
    .columns(['source_id', 'updated_at', 'id'])
    .execute();
  await db.schema
    .createIndex('certificate_versions_recorded_idx')
    .on('certificate_versions')
    .columns(['certificate_id', 'recorded_at'])
    .execute();
}
