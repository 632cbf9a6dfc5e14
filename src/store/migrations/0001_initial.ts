import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import { createIdGenerator } from '../ids.ts';

/**
 * The first schema. Written with the schema builder only, in the subset SQLite and PostgreSQL share:
 * TEXT ids/timestamps/JSON, INTEGER booleans, named CHECK / UNIQUE constraints, partial expression indexes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('config_json', 'text', (c) => c.notNull())
    .addColumn('credentials_ciphertext', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('sources_tenant_slug_unique', ['tenant_id', 'slug'])
    .execute();

  await db.schema
    .createTable('people')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('display_name', 'text')
    .addColumn('date_of_birth', 'text')
    .addColumn('national_id_ciphertext', 'text')
    .addColumn('national_id_hmac', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('people_national_id_idx').on('people').columns(['tenant_id', 'national_id_hmac']).execute();

  await db.schema
    .createTable('person_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.references('sources.id'))
    .addColumn('value', 'text')
    .addColumn('value_hmac', 'text')
    .addColumn('matched_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addCheckConstraint(
      'person_identities_kind_check',
      sql`kind in ('email', 'national_id', 'provider_user', 'name_dob')`,
    )
    // national_id is only ever kept as its HMAC; every other kind keeps its normalized value.
    .addCheckConstraint(
      'person_identities_value_check',
      sql`(kind = 'national_id' and value is null and value_hmac is not null) or (kind <> 'national_id' and value is not null and value_hmac is null)`,
    )
    .execute();
  // One person per email / national id / provider user within a tenant (per source when source-scoped).
  // name_dob is deliberately not unique: two people can share a name and a birthday.
  await db.schema
    .createIndex('person_identities_unique')
    .on('person_identities')
    .unique()
    .expression(sql`tenant_id, kind, (coalesce(source_id, '')), (coalesce(value, value_hmac))`)
    .where(sql.ref('kind'), '<>', 'name_dob')
    .execute();
  await db.schema
    .createIndex('person_identities_lookup_idx')
    .on('person_identities')
    .columns(['tenant_id', 'kind', 'value'])
    .execute();
  await db.schema
    .createIndex('person_identities_hmac_idx')
    .on('person_identities')
    .columns(['tenant_id', 'kind', 'value_hmac'])
    .execute();
  await db.schema.createIndex('person_identities_person_idx').on('person_identities').column('person_id').execute();

  await db.schema
    .createTable('certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('source_id', 'text', (c) => c.notNull().references('sources.id'))
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    .$call(addCertificateFields)
    .addColumn('file_sha256', 'text')
    .addColumn('first_seen_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('certificates_source_external_unique', ['source_id', 'external_id'])
    .addCheckConstraint('certificates_status_check', sql`status in ('awarded', 'pending', 'revoked', 'deleted')`)
    .execute();
  await db.schema.createIndex('certificates_person_idx').on('certificates').columns(['tenant_id', 'person_id']).execute();
  await db.schema
    .createIndex('certificates_achievement_idx')
    .on('certificates')
    .columns(['tenant_id', 'achievement_type', 'achievement_external_id'])
    .execute();
  await db.schema
    .createIndex('certificates_updated_idx')
    .on('certificates')
    .columns(['tenant_id', 'updated_at', 'id'])
    .execute();
  await db.schema
    .createIndex('certificates_national_id_idx')
    .on('certificates')
    .columns(['tenant_id', 'subject_national_id_hmac'])
    .execute();
  await db.schema
    .createIndex('certificates_last_seen_idx')
    .on('certificates')
    .columns(['source_id', 'last_seen_at'])
    .execute();

  await db.schema
    .createTable('certificate_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('certificate_id', 'text', (c) => c.notNull().references('certificates.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .$call(addCertificateFields)
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('certificate_versions_unique', ['certificate_id', 'version'])
    .addCheckConstraint('certificate_versions_status_check', sql`status in ('awarded', 'pending', 'revoked', 'deleted')`)
    .execute();

  await db.schema
    .createTable('achievements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source_id', 'text', (c) => c.notNull().references('sources.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('code', 'text')
    .addColumn('extra_json', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('achievements_source_type_external_unique', ['source_id', 'type', 'external_id'])
    .execute();

  await db.schema
    .createTable('sync_checkpoints')
    .addColumn('source_id', 'text', (c) => c.primaryKey().references('sources.id'))
    .addColumn('checkpoint_json', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sync_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source_id', 'text', (c) => c.notNull().references('sources.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('report_json', 'text')
    .addColumn('error', 'text')
    .addCheckConstraint('sync_runs_status_check', sql`status in ('running', 'succeeded', 'failed')`)
    .execute();
  await db.schema.createIndex('sync_runs_source_idx').on('sync_runs').columns(['source_id', 'started_at']).execute();

  await db.schema
    .createTable('sync_locks')
    .addColumn('source_id', 'text', (c) => c.primaryKey().references('sources.id'))
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();

  const id = createIdGenerator()();
  await sql`insert into tenants (id, slug, name, created_at) values (${id}, 'default', 'Default', ${new Date().toISOString()})`.execute(
    db,
  );
}

function addCertificateFields<TB extends string>(table: CreateTableBuilder<TB, string>): CreateTableBuilder<TB, string> {
  return table
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('subject_json', 'text', (c) => c.notNull())
    .addColumn('subject_national_id_hmac', 'text')
    .addColumn('subject_national_id_ciphertext', 'text')
    .addColumn('achievement_type', 'text', (c) => c.notNull())
    .addColumn('achievement_external_id', 'text', (c) => c.notNull())
    .addColumn('achievement_title', 'text')
    .addColumn('achievement_code', 'text')
    .addColumn('issued_at', 'text')
    .addColumn('valid_from', 'text')
    .addColumn('valid_until', 'text')
    .addColumn('serial', 'text')
    .addColumn('file_available', 'integer', (c) => c.notNull())
    .addColumn('raw_json', 'text', (c) => c.notNull())
    .addColumn('payload_hash', 'text', (c) => c.notNull());
}
