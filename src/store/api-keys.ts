import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.ts';
import { isoNow, type StoreContext } from './context.ts';
import type { ApiKeysTable } from './schema.ts';

export const API_KEY_ROLES = ['read', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** `chk_` + 43 characters of base64url (32 random bytes). */
export const API_KEY_PATTERN = /^chk_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 12;

/** An API key as lists show it: never the key, never its hash. */
export interface ApiKey {
  id: string;
  tenant_id: string;
  name: string;
  role: ApiKeyRole;
  /** The key's first characters (`chk_AbCdEfGh`), to tell keys apart. */
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ApiKeyRepository {
  /** The new key in clear is in `secret`, and only here: the store keeps a hash. */
  createKey(tenantId: string, input: { name: string; role: ApiKeyRole }, opts?: { now?: Date }): Promise<ApiKey & { secret: string }>;
  /** Newest first; revoked keys included (marked). */
  listKeys(tenantId: string): Promise<ApiKey[]>;
  getKey(tenantId: string, id: string): Promise<ApiKey | null>;
  /** Idempotent; AppError('not_found') when the tenant has no such key. */
  revokeKey(tenantId: string, id: string, opts?: { now?: Date }): Promise<ApiKey>;
  /** The live key whose secret this is, or null (unknown, malformed or revoked). */
  authenticate(secret: string): Promise<ApiKey | null>;
  /** Records use at most once a minute per key (a write per request would cost more than the request). */
  touch(id: string, opts?: { now?: Date }): Promise<void>;
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toKey(row: ApiKeysTable): ApiKey {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    role: row.role as ApiKeyRole,
    prefix: row.prefix,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
  };
}

export function createApiKeyRepository(ctx: StoreContext): ApiKeyRepository {
  const { db } = ctx;
  const repo: ApiKeyRepository = {
    async createKey(tenantId, input, opts) {
      const name = input.name.trim();
      if (name === '' || name.length > 200) throw new AppError('invalid_request', 'name: must be 1 to 200 characters');
      if (!API_KEY_ROLES.includes(input.role)) throw new AppError('invalid_request', 'role: must be read or admin');
      const tenant = await db.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst();
      if (tenant === undefined) throw new AppError('not_found', `tenant ${tenantId} not found`);
      const secret = `chk_${randomBytes(32).toString('base64url')}`;
      const row: ApiKeysTable = {
        id: ctx.newId(),
        tenant_id: tenantId,
        name,
        role: input.role,
        prefix: secret.slice(0, PREFIX_LENGTH),
        key_hash: hashApiKey(secret),
        created_at: isoNow(opts?.now),
        last_used_at: null,
        revoked_at: null,
      };
      await db.insertInto('api_keys').values(row).execute();
      return { ...toKey(row), secret };
    },
    async listKeys(tenantId) {
      const rows = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toKey);
    },
    async getKey(tenantId, id) {
      const row = await db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toKey(row);
    },
    async revokeKey(tenantId, id, opts) {
      await db
        .updateTable('api_keys')
        .set({ revoked_at: isoNow(opts?.now) })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      const key = await repo.getKey(tenantId, id);
      if (key === null) throw new AppError('not_found', `API key ${id} not found`);
      return key;
    },
    async authenticate(secret) {
      if (!API_KEY_PATTERN.test(secret)) return null;
      const hash = hashApiKey(secret);
      const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
      if (row === undefined || row.revoked_at !== null) return null;
      // The lookup was by hash already; compare again in constant time so timing says nothing about near misses.
      if (!timingSafeEqual(Buffer.from(row.key_hash), Buffer.from(hash))) return null;
      return toKey(row);
    },
    async touch(id, opts) {
      const now = opts?.now ?? new Date();
      const aMinuteAgo = new Date(now.getTime() - 60_000).toISOString();
      await db
        .updateTable('api_keys')
        .set({ last_used_at: now.toISOString() })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', aMinuteAgo)]))
        .execute();
    },
  };
  return repo;
}
