import type { ProviderId } from '../domain/certificate.ts';
import { AppError } from '../errors.ts';
import { canonicalJson, isoNow, isUniqueViolation, type StoreContext } from './context.ts';
import type { SourcesTable } from './schema.ts';
import { sourceCredentialsPlace } from './secret-places.ts';

/** A configured source as reads return it: never its credentials (see getSourceCredentials). */
export interface Source {
  id: string;
  tenant_id: string;
  slug: string;
  provider: ProviderId;
  settings: Record<string, unknown>;
  has_credentials: boolean;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface SourceConfigInput {
  slug: string;
  provider: ProviderId;
  /** Non-secret settings, stored as JSON. */
  settings: Record<string, unknown>;
  /** Secret settings (api keys, tokens, client secrets), stored encrypted as one JSON object. */
  credentials: Record<string, unknown> | null;
}

export interface SourceRepository {
  /** Creates the source or brings it in line with the config (and re-enables it); `updated_at` moves only on change. */
  upsertSourceFromConfig(tenantId: string, input: SourceConfigInput, opts?: { now?: Date }): Promise<Source>;
  listSources(tenantId: string): Promise<Source[]>;
  /** Null when the tenant has no such source (another tenant's source included). */
  getSource(tenantId: string, sourceId: string): Promise<Source | null>;
  getSourceBySlug(tenantId: string, slug: string): Promise<Source | null>;
  /**
   * The only read that decrypts credentials. Null when the source has none; AppError('not_found') when the tenant has
   * no such source.
   */
  getSourceCredentials(tenantId: string, sourceId: string): Promise<Record<string, unknown> | null>;
  /** AppError('not_found') when the tenant has no such source. */
  setSourceEnabled(tenantId: string, sourceId: string, enabled: boolean, opts?: { now?: Date }): Promise<void>;
  /** Every tenant's sources (the scheduler's view), by tenant then slug. Across tenants: only for the scheduler. */
  listAllSourcesForScheduler(): Promise<Source[]>;
  /**
   * A source by id whatever its tenant, for the sync launcher: the scheduler starts runs across tenants, and the API
   * routes that start one have read the source with their tenant first.
   */
  getSourceForLauncher(sourceId: string): Promise<Source | null>;
  /** Certificates stored per source of the tenant (any status, deleted ones included); sources without any are absent. */
  countCertificatesBySource(tenantId: string): Promise<Map<string, number>>;
  /**
   * Deletes the tenant's source. With certificates stored it refuses (AppError('conflict')) unless `purge`, which
   * deletes them too, with their versions, the source's catalog, checkpoint, runs, scan, lock and the provider
   * identities it linked, in one transaction. AppError('not_found') when the tenant has no such source;
   * AppError('conflict') while a run holds its lock.
   */
  deleteSource(tenantId: string, sourceId: string, opts?: { purge?: boolean; now?: Date }): Promise<{ certificates: number }>;
}

const SLUG = /^[a-z0-9][a-z0-9-]*$/;

function toSource(row: Omit<SourcesTable, 'credentials_ciphertext'> & { has_credentials: number | boolean }): Source {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    slug: row.slug,
    provider: row.provider,
    settings: JSON.parse(row.config_json) as Record<string, unknown>,
    has_credentials: Boolean(row.has_credentials),
    enabled: row.enabled === 1,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function createSourceRepository(ctx: StoreContext): SourceRepository {
  const { db, box } = ctx;

  const selectSource = () =>
    db
      .selectFrom('sources')
      .select(['id', 'tenant_id', 'slug', 'provider', 'config_json', 'enabled', 'created_at', 'updated_at'])
      .select((eb) =>
        eb.case().when('credentials_ciphertext', 'is not', null).then(1).else(0).end().as('has_credentials'),
      );

  const decryptCredentials = (
    row: { tenant_id: string; id: string; credentials_ciphertext: string | null },
  ): Record<string, unknown> | null =>
    row.credentials_ciphertext === null
      ? null
      : (JSON.parse(box.decrypt(row.credentials_ciphertext, sourceCredentialsPlace(row.tenant_id, row.id))) as Record<string, unknown>);

  async function upsert(tenantId: string, input: SourceConfigInput, now: string): Promise<void> {
    const configJson = canonicalJson(input.settings);
    const existing = await db
      .selectFrom('sources')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('slug', '=', input.slug)
      .executeTakeFirst();
    const encryptFor = (sourceId: string) =>
      input.credentials === null ? null : box.encrypt(canonicalJson(input.credentials), sourceCredentialsPlace(tenantId, sourceId));
    if (existing === undefined) {
      const id = ctx.newId();
      const credentialsCiphertext = encryptFor(id);
      await db
        .insertInto('sources')
        .values({
          id,
          tenant_id: tenantId,
          slug: input.slug,
          provider: input.provider,
          config_json: configJson,
          credentials_ciphertext: credentialsCiphertext,
          enabled: 1,
          created_at: now,
          updated_at: now,
        })
        .execute();
      return;
    }
    if (existing.provider !== input.provider) {
      // Certificates are keyed by source; letting one slug change provider would mix two providers' ids.
      throw new AppError(
        'invalid_config',
        `source "${input.slug}" was created for provider ${existing.provider}, not ${input.provider}; give it a new id`,
      );
    }
    const oldCredentials = decryptCredentials(existing);
    const credentialsChanged =
      (oldCredentials === null ? null : canonicalJson(oldCredentials)) !==
      (input.credentials === null ? null : canonicalJson(input.credentials));
    if (!credentialsChanged && existing.config_json === configJson && existing.enabled === 1) return;
    await db
      .updateTable('sources')
      .set({
        config_json: configJson,
        // Unchanged credentials keep their ciphertext (a fresh encryption would differ byte-wise for nothing).
        credentials_ciphertext: credentialsChanged ? encryptFor(existing.id) : existing.credentials_ciphertext,
        enabled: 1,
        updated_at: now,
      })
      .where('id', '=', existing.id)
      .execute();
  }

  const repo: SourceRepository = {
    async upsertSourceFromConfig(tenantId, input, opts) {
      if (!SLUG.test(input.slug)) throw new AppError('invalid_config', `source id "${input.slug}" must match [a-z0-9-]`);
      const now = isoNow(opts?.now);
      try {
        await upsert(tenantId, input, now);
      } catch (err) {
        // Another process inserted the same slug between our read and insert: its row now exists, so update it.
        if (!isUniqueViolation(err)) throw err;
        await upsert(tenantId, input, now);
      }
      const source = await repo.getSourceBySlug(tenantId, input.slug);
      if (source === null) throw new AppError('internal', `source "${input.slug}" vanished during upsert`);
      return source;
    },
    async listSources(tenantId) {
      const rows = await selectSource().where('tenant_id', '=', tenantId).orderBy('slug').execute();
      return rows.map(toSource);
    },
    async getSource(tenantId, sourceId) {
      const row = await selectSource().where('tenant_id', '=', tenantId).where('id', '=', sourceId).executeTakeFirst();
      return row === undefined ? null : toSource(row);
    },
    async getSourceForLauncher(sourceId) {
      const row = await selectSource().where('id', '=', sourceId).executeTakeFirst();
      return row === undefined ? null : toSource(row);
    },
    async getSourceBySlug(tenantId, slug) {
      const row = await selectSource().where('tenant_id', '=', tenantId).where('slug', '=', slug).executeTakeFirst();
      return row === undefined ? null : toSource(row);
    },
    async getSourceCredentials(tenantId, sourceId) {
      const row = await db
        .selectFrom('sources')
        .select(['id', 'tenant_id', 'credentials_ciphertext'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', sourceId)
        .executeTakeFirst();
      if (row === undefined) throw new AppError('not_found', `source ${sourceId} not found`);
      return decryptCredentials(row);
    },
    async setSourceEnabled(tenantId, sourceId, enabled, opts) {
      const result = await db
        .updateTable('sources')
        .set({ enabled: enabled ? 1 : 0, updated_at: isoNow(opts?.now) })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', sourceId)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new AppError('not_found', `source ${sourceId} not found`);
    },
    async listAllSourcesForScheduler() {
      const rows = await selectSource().orderBy('tenant_id').orderBy('slug').execute();
      return rows.map(toSource);
    },
    async countCertificatesBySource(tenantId) {
      const rows = await db
        .selectFrom('certificates')
        .select(['source_id'])
        .select((eb) => eb.fn.countAll().as('n'))
        .where('tenant_id', '=', tenantId)
        .groupBy('source_id')
        .execute();
      return new Map(rows.map((r) => [r.source_id, Number(r.n)]));
    },
    async deleteSource(tenantId, sourceId, opts) {
      const now = isoNow(opts?.now);
      return db.transaction().execute(async (trx) => {
        const source = await trx
          .selectFrom('sources')
          .select(['id', 'slug'])
          .where('id', '=', sourceId)
          .where('tenant_id', '=', tenantId)
          .executeTakeFirst();
        if (source === undefined) throw new AppError('not_found', `source ${sourceId} not found`);
        const lock = await trx
          .selectFrom('sync_locks')
          .select(['run_id', 'expires_at'])
          .where('source_id', '=', sourceId)
          .executeTakeFirst();
        if (lock !== undefined && lock.expires_at > now) {
          throw new AppError('conflict', `source ${source.slug} is syncing (run ${lock.run_id ?? 'starting'}); delete it once the run ends`);
        }
        const counted = await trx
          .selectFrom('certificates')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('source_id', '=', sourceId)
          .executeTakeFirstOrThrow();
        const certificates = Number(counted.n);
        if (certificates > 0 && opts?.purge !== true) {
          throw new AppError(
            'conflict',
            `source ${source.slug} has ${certificates} certificate(s); delete with purge to delete them with it`,
          );
        }
        const rule = await trx.selectFrom('push_rules').select('name').where('target_source_id', '=', sourceId).executeTakeFirst();
        if (rule !== undefined) {
          throw new AppError('conflict', `source ${source.slug} is the target of push rule "${rule.name}"; delete or change the rule first`);
        }
        const ofSource = trx.selectFrom('certificates').select('id').where('source_id', '=', sourceId);
        // Pushes of its certificates (and pushes to it, left by deleted rules) go with it, their outbox rows too.
        const pushes = trx
          .selectFrom('pushes')
          .select('id')
          .where((eb) => eb.or([eb('certificate_id', 'in', ofSource), eb('target_source_id', '=', sourceId)]));
        await trx.deleteFrom('outbox').where('kind', '=', 'push').where('subject_id', 'in', pushes).execute();
        await trx
          .deleteFrom('pushes')
          .where((eb) => eb.or([eb('certificate_id', 'in', ofSource), eb('target_source_id', '=', sourceId)]))
          .execute();
        await trx.deleteFrom('certificate_versions').where('certificate_id', 'in', ofSource).execute();
        await trx.deleteFrom('certificates').where('source_id', '=', sourceId).execute();
        for (const table of ['achievements', 'sync_checkpoints', 'sync_runs', 'sync_scans', 'sync_locks', 'person_identities'] as const) {
          await trx.deleteFrom(table).where('source_id', '=', sourceId).execute();
        }
        await trx.deleteFrom('sources').where('id', '=', sourceId).execute();
        return { certificates };
      });
    },
  };
  return repo;
}
