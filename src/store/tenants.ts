import { AppError } from '../errors.ts';
import { isoNow, isUniqueViolation, type StoreContext } from './context.ts';
import type { TenantsTable } from './schema.ts';

export type Tenant = TenantsTable;

export const DEFAULT_TENANT_SLUG = 'default';
const SLUG = /^[a-z0-9][a-z0-9-]*$/;

export interface TenantRepository {
  getTenant(id: string): Promise<Tenant | null>;
  getTenantBySlug(slug: string): Promise<Tenant | null>;
  /** Throws AppError('conflict') when the slug is taken. */
  createTenant(input: { slug: string; name: string }): Promise<Tenant>;
  listTenants(): Promise<Tenant[]>;
}

export function createTenantRepository(ctx: StoreContext): TenantRepository {
  const { db } = ctx;
  return {
    async getTenant(id) {
      return (await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
    },
    async getTenantBySlug(slug) {
      return (await db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst()) ?? null;
    },
    async createTenant({ slug, name }) {
      if (!SLUG.test(slug)) throw new AppError('invalid_request', `tenant slug "${slug}" must match [a-z0-9-]`);
      const tenant: Tenant = { id: ctx.newId(), slug, name, created_at: isoNow() };
      try {
        await db.insertInto('tenants').values(tenant).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `tenant "${slug}" already exists`, { cause: err });
        throw err;
      }
      return tenant;
    },
    async listTenants() {
      return db.selectFrom('tenants').selectAll().orderBy('id').execute();
    },
  };
}
