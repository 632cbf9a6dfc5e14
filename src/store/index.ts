import { sql } from 'kysely';
import { AppError } from '../errors.ts';
import { isSqliteBusy } from './sqlite-busy.ts';
import { createAchievementCatalog, type AchievementCatalog } from './achievements.ts';
import { createApiKeyRepository, type ApiKeyRepository } from './api-keys.ts';
import { createRequirementRepository, type RequirementRepository } from './requirements.ts';
import { createSecretBox } from '../secrets.ts';
import { createCertificateReader, type CertificateReader } from './certificates-read.ts';
import { createCertificateWriter, type CertificateWriter } from './certificates-write.ts';
import { openDatabase, parseDatabaseUrl, unavailable } from './connect.ts';
import { createFileRepository, type FileRepository } from './files.ts';
import type { StoreContext, StoreDialect } from './context.ts';
import { createIdGenerator } from './ids.ts';
import { createWebhookRepository, type WebhookRepository } from './webhooks.ts';
import { createPushRepository, type PushRepository } from './pushes.ts';
import { rotateSecretKey, type KeyRotationReport } from './key-rotation.ts';
import { runMigrations, verifySecretKey } from './migrate.ts';
import { createPeopleRepository, type PeopleRepository } from './people.ts';
import { createPeopleSearch, type PeopleSearch } from './people-search.ts';
import { createMergeRepository, type MergeRepository } from './merges.ts';
import { createSyncLockRepository, type SyncLockRepository } from './locks.ts';
import { createSyncScanRepository, type SyncScanRepository } from './scans.ts';
import { createSuggestionRepository, type SuggestionRepository } from './suggestions.ts';
import { createSourceRepository, type SourceRepository } from './sources.ts';
import { createSyncRepository, type SyncRepository } from './sync.ts';
import { createTenantRepository, type TenantRepository } from './tenants.ts';

export interface StoreOptions {
  /** `sqlite:./data/certhub.db`, `sqlite::memory:`, `postgres://...` or `postgresql://...`. */
  url: string;
  /** 32 bytes (loadSecretKey): encrypts credentials and national ids, keys their HMACs. */
  secretKey: Buffer;
  /** PostgreSQL only: the schema to work in (search_path); tests use a fresh one each. Must already exist. */
  pgSchema?: string;
}

export interface Store {
  readonly dialect: StoreDialect;
  /** Applies pending numbered migrations in order (forward-only, idempotent) and checks/records the key. */
  migrate(): Promise<{ applied: string[] }>;
  /** Throws AppError('database_unavailable') when the database does not answer, or a write could not get through now. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Re-encrypts every ciphertext and recomputes every national-id HMAC under `newKey`, in one transaction
   * (key-rotation.ts). On success the store closes itself (its key is the old one now): open it again with `newKey`.
   */
  rotateSecretKey(newKey: Buffer): Promise<KeyRotationReport>;
  readonly tenants: TenantRepository;
  readonly sources: SourceRepository;
  readonly people: PeopleRepository & PeopleSearch;
  readonly merges: MergeRepository;
  readonly certificates: CertificateReader & CertificateWriter;
  readonly achievements: AchievementCatalog;
  readonly sync: SyncRepository;
  readonly locks: SyncLockRepository;
  readonly scans: SyncScanRepository;
  readonly suggestions: SuggestionRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly requirements: RequirementRepository;
  readonly files: FileRepository;
  readonly webhooks: WebhookRepository;
  readonly pushes: PushRepository;
}

/**
 * Opens the database named by `url`. Throws AppError('database_unavailable') when it cannot be opened or reached,
 * and AppError('secret_key_invalid') when it was set up under a different secret key.
 */
export async function createStore(opts: StoreOptions): Promise<Store> {
  const target = parseDatabaseUrl(opts.url);
  const box = createSecretBox(opts.secretKey);
  const { dialect, db, probeWrites } = await openDatabase(target, { pgSchema: opts.pgSchema });
  const ctx: StoreContext = { dialect, db, box, newId: createIdGenerator() };
  try {
    await verifySecretKey(ctx);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  let closed: Promise<void> | undefined;
  const store: Store = {
    dialect,
    migrate: () => runMigrations(ctx),
    async ping() {
      try {
        await sql`select 1`.execute(db);
        await probeWrites();
      } catch (err) {
        // Busy is already said in full (and without the file's path); anything else gets the database's name.
        if (err instanceof AppError && isSqliteBusy(err.cause)) throw err;
        throw unavailable(target, err);
      }
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
    async rotateSecretKey(newKey) {
      const report = await rotateSecretKey(ctx, newKey);
      await store.close();
      return report;
    },
    tenants: createTenantRepository(ctx),
    sources: createSourceRepository(ctx),
    people: { ...createPeopleRepository(ctx), ...createPeopleSearch(ctx) },
    merges: createMergeRepository(ctx),
    certificates: { ...createCertificateReader(ctx), ...createCertificateWriter(ctx) },
    achievements: createAchievementCatalog(ctx),
    sync: createSyncRepository(ctx),
    locks: createSyncLockRepository(ctx),
    scans: createSyncScanRepository(ctx),
    suggestions: createSuggestionRepository(ctx),
    apiKeys: createApiKeyRepository(ctx),
    requirements: createRequirementRepository(ctx),
    files: createFileRepository(ctx),
    webhooks: createWebhookRepository(ctx),
    pushes: createPushRepository(ctx),
  };
  // Every table is the store's: the Kysely instance is not part of Store, only tests reach it (database.testkit.ts).
  Object.defineProperty(store, STORE_DATABASE, { value: db, enumerable: false });
  return store;
}

/** Where a store keeps its Kysely instance for database.testkit.ts; nothing in the product reads it. */
export const STORE_DATABASE: unique symbol = Symbol('certhub.store.database');

export type { Database } from './schema.ts';
export type { StoreDialect } from './context.ts';
export type { CertificateVersion, ReadOptions } from './certificate-row.ts';
export type {
  AsOfReadOptions,
  CertificateFilter,
  CertificatePage,
  CertificateReader,
  EndingCursor,
  EndingFilter,
  PageRequest,
} from './certificates-read.ts';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './certificates-read.ts';
export { decodeKeyCursor, decodeListCursor, encodeKeyCursor, encodeListCursor, isCertificateCursor } from './cursor.ts';
export type { AchievementCatalog, CatalogAchievement } from './achievements.ts';
export type {
  CatalogEntry,
  CertificateWriter,
  PageSubject,
  PersonResolver,
  PersonResolverInput,
  SavePageOptions,
  SavePageReport,
} from './certificates-write.ts';
export type { AcquireResult, LockFence, SyncLockHolder, SyncLockRepository } from './locks.ts';
export type { SyncScan, SyncScanRepository } from './scans.ts';
export type { KeyRotationReport } from './key-rotation.ts';
export type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryStatus,
  NewWebhookEndpoint,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointPatch,
  WebhookRepository,
  WebhookSecrets,
} from './webhooks.ts';
export {
  PUSH_STATES,
  type ClaimedPush,
  type Push,
  type PushedCopy,
  type PushMatch,
  type PushRepository,
  type PushRule,
  type PushRuleInput,
  type PushState,
  type PushStepResult,
} from './pushes.ts';
export {
  SUGGESTION_REASONS,
  SUGGESTION_STATUSES,
  type NewSuggestion,
  type PersonSuggestion,
  type SuggestionReason,
  type SuggestionRepository,
  type SuggestionStatus,
} from './suggestions.ts';
export { isTransientStoreError, isUniqueViolation } from './context.ts';
export type { PeopleSearch, PeopleSearchPage, PeopleSearchQuery, PersonSummary } from './people-search.ts';
export type { FilledField, MergeMoved, MergeRepository, PersonMerge, UnmergeTarget } from './merges.ts';
export type { NewIdentity, PeopleRepository, PersonName, StoredPerson, StoredPersonIdentity } from './people.ts';
export type { Source, SourceConfigInput, SourceRepository } from './sources.ts';
export type { SyncRepository, SyncRun, SyncRunStatus, TenantRunPage, TenantRunQuery, TenantSyncRun } from './sync.ts';
export type { Tenant, TenantRepository } from './tenants.ts';
export { DEFAULT_TENANT_SLUG } from './tenants.ts';
export { createIdGenerator, type IdGenerator } from './ids.ts';
export { describePostgresUrl, parseDatabaseUrl } from './connect.ts';
export { sha256OfBytes, type FileBlob, type FileRepository } from './files.ts';
export { API_KEY_PATTERN, API_KEY_ROLES, hashApiKey, type ApiKey, type ApiKeyRepository, type ApiKeyRole } from './api-keys.ts';
export type { Requirement, RequirementInput, RequirementRepository } from './requirements.ts';
