/** Who am I, and the tenant's API keys (admin). */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { API_KEY_ROLES, type ApiKey } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { idParams } from '../schemas.ts';

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(API_KEY_ROLES),
  prefix: z.string().describe('The first characters of the key, to tell keys apart'),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

function publicKey(key: ApiKey): z.output<typeof apiKeySchema> {
  const { tenant_id: _tenant, ...rest } = key;
  return rest;
}

export function registerSystemRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;

  table.add({
    method: 'GET',
    url: '/v1/me',
    operationId: 'getMe',
    summary: 'The API key in use, its role and tenant',
    tag: 'keys',
    access: 'read',
    responses: {
      200: {
        description: 'The caller',
        schema: z.object({
          key: apiKeySchema,
          tenant: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
        }),
      },
    },
    async handler({ caller }) {
      const c = caller!;
      const [key, tenant] = await Promise.all([store.apiKeys.getKey(c.tenantId, c.keyId), store.tenants.getTenant(c.tenantId)]);
      if (key === null || tenant === null) throw new AppError('unauthorized', 'the API key is not valid (unknown or revoked)');
      return { key: publicKey(key), tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name } };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/keys',
    operationId: 'listKeys',
    summary: "The tenant's API keys (never the keys themselves)",
    tag: 'keys',
    access: 'admin',
    responses: { 200: { description: 'Newest first, revoked ones included', schema: z.object({ items: z.array(apiKeySchema) }) } },
    async handler({ caller }) {
      return { items: (await store.apiKeys.listKeys(caller!.tenantId)).map(publicKey) };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/keys',
    operationId: 'createKey',
    summary: 'Create an API key; the key is in this answer only',
    tag: 'keys',
    access: 'admin',
    body: z.strictObject({
      name: z.string().trim().min(1).max(200).describe('What the key is for'),
      role: z.enum(API_KEY_ROLES).describe('read: every GET and status checks; admin: everything'),
    }),
    responses: {
      201: {
        description: 'Created; keep `key`, it is never shown again',
        schema: apiKeySchema.extend({ key: z.string().describe('chk_...: send as Authorization: Bearer <key>') }),
      },
    },
    async handler({ caller, body, reply }) {
      const created = await store.apiKeys.createKey(caller!.tenantId, body);
      const { secret, ...key } = created;
      reply.code(201);
      return { ...publicKey(key), key: secret };
    },
  });

  table.add({
    method: 'DELETE',
    url: '/v1/keys/:id',
    operationId: 'revokeKey',
    summary: 'Revoke an API key (at once; idempotent)',
    tag: 'keys',
    access: 'admin',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The key, now revoked', schema: apiKeySchema } },
    async handler({ caller, params }) {
      return publicKey(await store.apiKeys.revokeKey(caller!.tenantId, params.id));
    },
  });
}
