/**
 * Sources (the provider accounts certhub syncs): add, change, delete, test the connection, start a sync. Sources are
 * named by their id (slug) within the caller's tenant; credentials are write-only and never appear in an answer.
 */
import { z } from 'zod';
import { credentialsToResend, joinSourceSecrets, splitSourceSecrets } from '../../config/index.ts';
import { sourceSchema, type SourceConfig } from '../../config/schema.ts';
import { isRecord } from '../../config/problems.ts';
import { AppError } from '../../errors.ts';
import { testSourceConnection } from '../../providers/connection-test.ts';
import type { Source } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';
import { parseOrThrow, type RouteTable } from '../route.ts';
import { boolQuery, idParams } from '../schemas.ts';
import { sourceViewSchema } from '../run-view.ts';
import { runSummary } from './sync-runs.ts';

/** The body of POST and (after merging) PATCH as certhub.yaml writes a source; `sync_every` back from the stored ms. */
function asYamlShape(config: SourceConfig): Record<string, unknown> {
  const { sync_every_ms, tenant: _tenant, ...rest } = config;
  return { ...rest, ...(sync_every_ms === undefined ? {} : { sync_every: `${sync_every_ms}ms` }) };
}

function mergeDeep(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isRecord(current) && isRecord(value) ? mergeDeep(current, value) : value;
  }
  return out;
}

/** Built when the routes are: the providers registered by then are the ones a source can name. */
const createBodySchema = () =>
  sourceSchema().describe(
  'A source as certhub.yaml writes one (`id`, `provider`, the provider\'s settings and credentials); the tenant is the API key\'s',
);

const patchBody = z
  .record(z.string(), z.unknown())
  .describe('Any of the provider\'s settings, `enabled`, or new credentials; omitted credentials keep the stored ones. `provider` and `id` cannot change');

export function registerSourceRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;
  const createBody = createBodySchema();

  async function findSource(tenantId: string, slug: string): Promise<Source> {
    const source = await store.sources.getSourceBySlug(tenantId, slug);
    if (source === null) throw new AppError('not_found', `source ${slug} not found`);
    return source;
  }

  async function viewOf(source: Source, counts?: Map<string, number>): Promise<z.output<typeof sourceViewSchema>> {
    const [last] = await store.sync.listTenantRuns(source.tenant_id, { sourceId: source.id, limit: 1 }).then((p) => p.items);
    const lock = await store.locks.get(source.id);
    const certificates = (counts ?? (await store.sources.countCertificatesBySource(source.tenant_id))).get(source.id) ?? 0;
    const next = deps.sync?.nextSyncAt?.(source.id) ?? null;
    return {
      id: source.slug,
      provider: source.provider,
      enabled: source.enabled,
      settings: source.settings,
      has_credentials: source.has_credentials,
      syncing: lock !== null && Date.parse(lock.expires_at) > deps.now().getTime(),
      certificates,
      last_run: last === undefined ? null : runSummary(last),
      next_sync_at: next === null ? null : next.toISOString(),
      created_at: source.created_at,
      updated_at: source.updated_at,
    };
  }

  /** Validates the whole source as certhub.yaml would and stores it (split into settings and encrypted credentials). */
  async function storeSource(tenantId: string, config: SourceConfig): Promise<Source> {
    const { settings, credentials } = splitSourceSecrets(config);
    const stored = await store.sources.upsertSourceFromConfig(tenantId, { slug: config.id, provider: config.provider, settings, credentials });
    // upsertSourceFromConfig (re-)enables; the body's `enabled` wins.
    if (!config.enabled) await store.sources.setSourceEnabled(tenantId, stored.id, false);
    deps.sync?.sourcesChanged?.();
    return (await store.sources.getSource(tenantId, stored.id)) ?? stored;
  }

  table.add({
    method: 'GET',
    url: '/v1/sources',
    operationId: 'listSources',
    summary: "The tenant's sources, with their last run and next scheduled sync",
    tag: 'sources',
    access: 'read',
    responses: { 200: { description: 'By id', schema: z.object({ items: z.array(sourceViewSchema) }) } },
    async handler({ caller }) {
      const tenantId = caller!.tenantId;
      const [sources, counts] = await Promise.all([store.sources.listSources(tenantId), store.sources.countCertificatesBySource(tenantId)]);
      return { items: await Promise.all(sources.map((s) => viewOf(s, counts))) };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/sources/:id',
    operationId: 'getSource',
    summary: 'One source',
    tag: 'sources',
    access: 'read',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The source', schema: sourceViewSchema } },
    async handler({ caller, params }) {
      return viewOf(await findSource(caller!.tenantId, params.id));
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/sources',
    operationId: 'createSource',
    summary: 'Add a source (validated like certhub.yaml); the scheduler picks it up at once',
    tag: 'sources',
    access: 'admin',
    body: createBody,
    errors: [409],
    responses: { 201: { description: 'Created (credentials stored encrypted, never returned)', schema: sourceViewSchema } },
    async handler({ caller, body, request, reply }) {
      const tenantId = caller!.tenantId;
      if (isRecord(request.body) && 'tenant' in request.body) {
        throw new AppError('invalid_request', 'body.tenant: is not accepted; a source belongs to the tenant of the API key');
      }
      if ((await store.sources.getSourceBySlug(tenantId, body.id)) !== null) {
        throw new AppError('conflict', `source ${body.id} already exists; change it with PATCH /v1/sources/${body.id}`);
      }
      const source = await storeSource(tenantId, body);
      reply.code(201);
      return viewOf(source);
    },
  });

  table.add({
    method: 'PATCH',
    url: '/v1/sources/:id',
    operationId: 'updateSource',
    summary: 'Change settings, enable or disable, or replace credentials',
    tag: 'sources',
    access: 'admin',
    params: idParams,
    body: patchBody,
    errors: [404],
    responses: { 200: { description: 'The source as now stored', schema: sourceViewSchema } },
    async handler({ caller, params, body }) {
      const tenantId = caller!.tenantId;
      const source = await findSource(tenantId, params.id);
      for (const field of ['tenant', 'id'] as const) {
        if (field in body) throw new AppError('invalid_request', `body.${field}: cannot change (create a new source instead)`);
      }
      if ('provider' in body && body.provider !== source.provider) {
        throw new AppError('invalid_request', `body.provider: cannot change; source ${source.slug} is a ${source.provider} source`);
      }
      const credentials = await store.sources.getSourceCredentials(tenantId, source.id);
      const current = joinSourceSecrets({ slug: source.slug, provider: source.provider, tenant: '', enabled: source.enabled }, source.settings, credentials);
      const merged = mergeDeep(asYamlShape(current), body);
      const config = parseOrThrow(createBody, merged, 'body');
      const resend = credentialsToResend(current, body);
      if (resend.length > 0) {
        throw new AppError(
          'invalid_request',
          `body: a new URL for source ${source.slug} needs its credentials again (${resend.map((p) => `body.${p}`).join(', ')}); stored credentials are only sent where they were given for`,
        );
      }
      return viewOf(await storeSource(tenantId, config));
    },
  });

  table.add({
    method: 'DELETE',
    url: '/v1/sources/:id',
    operationId: 'deleteSource',
    summary: 'Delete a source; with certificates only with ?purge=true, which deletes them and its run history too',
    tag: 'sources',
    access: 'admin',
    params: idParams,
    query: z.object({ purge: boolQuery.describe('Also delete its certificates (with their versions), runs and checkpoints') }),
    errors: [404, 409],
    responses: {
      200: {
        description: 'Deleted',
        schema: z.object({ id: z.string(), deleted: z.literal(true), certificates_deleted: z.number() }),
      },
    },
    async handler({ caller, params, query }) {
      const tenantId = caller!.tenantId;
      const source = await findSource(tenantId, params.id);
      const { certificates } = await store.sources.deleteSource(tenantId, source.id, { purge: query.purge === true });
      deps.sync?.sourcesChanged?.();
      return { id: source.slug, deleted: true as const, certificates_deleted: certificates };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/sources/:id/test',
    operationId: 'testSource',
    summary: 'Test the connection: read the first page from the provider, save nothing',
    tag: 'sources',
    access: 'admin',
    params: idParams,
    errors: [404, 502],
    responses: {
      200: {
        description: 'Whether the provider answered; a failure is described, never with a secret',
        schema: z.union([
          z.object({ ok: z.literal(true), latency_ms: z.number(), certificates: z.number().describe('On the first page') }),
          z.object({ ok: z.literal(false), latency_ms: z.number(), error: z.object({ code: z.string(), message: z.string() }) }),
        ]),
      },
    },
    async handler({ caller, params }) {
      const source = await findSource(caller!.tenantId, params.id);
      if (deps.connector === null) throw new AppError('provider_unavailable', 'this server cannot reach providers (no connector configured)');
      return testSourceConnection(deps.connector, source);
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/sources/:id/sync',
    operationId: 'syncSource',
    summary: 'Start a sync now; answers at once with the run, which goes on in the background',
    tag: 'sources',
    access: 'admin',
    params: idParams,
    body: z.strictObject({ full: z.boolean().optional().describe('Ignore checkpoints: read everything again') }).optional(),
    errors: [404, 409, 502],
    responses: {
      202: {
        description: 'Started; follow it at GET /v1/sync-runs/{run_id} or on GET /v1/events',
        schema: z.object({ run_id: z.string(), source: z.string(), status: z.literal('running'), started_at: z.string() }),
      },
    },
    async handler({ caller, params, body, reply }) {
      const source = await findSource(caller!.tenantId, params.id);
      if (deps.sync === null) throw new AppError('provider_unavailable', 'this server does not run syncs (no sync launcher configured)');
      const run = await deps.sync.start(source.id, { full: body?.full === true });
      reply.code(202);
      return { run_id: run.id, source: source.slug, status: 'running' as const, started_at: run.started_at };
    },
  });
}
