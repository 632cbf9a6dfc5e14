/**
 * A hub for API tests: an in-memory store (migrated), two tenants with an admin and a read key each, a source per
 * tenant, and `call()` over app.inject (no port). Shared by every route's tests.
 *
 * Every answer `call()` returns has been checked against what its route declares (response-check.testkit.ts): an
 * answer whose status, fields or types its route's schemas do not declare throws, naming the route and the problems.
 */
import { DEFAULT_TEST_START } from '../test-clock.testkit.ts';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { NormalizedCertificate, ProviderId } from '../domain/certificate.ts';
import { createEventBus, type EventBus } from '../events.ts';
import { createPersonResolver } from '../identity/index.ts';
import { createStore, type Source, type Store } from '../store/index.ts';
import { createApp } from './app.ts';
import type { ApiDeps } from './deps.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createResponseCheck } from './response-check.testkit.ts';
import { createRouteTable, type RegisteredRoute } from './route.ts';
import { registerAllRoutes } from './routes/index.ts';
import { createEgressGuard } from '../providers/http/egress.ts';

export interface TestTenant {
  id: string;
  slug: string;
  adminKey: string;
  readKey: string;
  /** A FrontCore source (settings only; nothing listens at its base_url). */
  source: Source;
}

export interface TestHub {
  store: Store;
  app: FastifyInstance;
  events: EventBus;
  metrics: Metrics;
  a: TestTenant;
  b: TestTenant;
  /** app.inject with the key as a Bearer token; the answer is checked against its route's declared responses. */
  call(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    opts?: { key?: string | null; body?: unknown; headers?: Record<string, string>; rawBody?: string },
  ): Promise<LightMyRequestResponse>;
  /** The same check for an answer of `app.inject` called directly: throws when it is not what its route declares. */
  checkAnswer(response: LightMyRequestResponse): void;
  /** Saves certificates for a source as a sync page would (people resolved). */
  seed(source: Source, certificates: NormalizedCertificate[], opts?: { now?: Date }): Promise<void>;
  close(): Promise<void>;
}

export async function createTenantWithKeys(
  store: Store,
  slug: string,
  source: { slug: string; provider: ProviderId; settings?: Record<string, unknown> },
): Promise<TestTenant> {
  const tenant = (await store.tenants.getTenantBySlug(slug)) ?? (await store.tenants.createTenant({ slug, name: `Tenant ${slug}` }));
  const admin = await store.apiKeys.createKey(tenant.id, { name: `${slug} admin`, role: 'admin' });
  const read = await store.apiKeys.createKey(tenant.id, { name: `${slug} read`, role: 'read' });
  const stored = await store.sources.upsertSourceFromConfig(tenant.id, {
    slug: source.slug,
    provider: source.provider,
    settings: source.settings ?? { base_url: 'http://127.0.0.1:9', timezone: 'Europe/Oslo', sync_every_ms: 3_600_000 },
    credentials: { api_key: `secret-${slug}-${randomBytes(6).toString('hex')}` },
  });
  return { id: tenant.id, slug, adminKey: admin.secret, readKey: read.secret, source: stored };
}

export interface TestHubOptions {
  /** Check every answer against its route's declared responses (default true; benchmarks time the API alone). */
  checkAnswers?: boolean;
}

export async function createTestHub(overrides: Partial<ApiDeps> = {}, options: TestHubOptions = {}): Promise<TestHub> {
  const store = overrides.store ?? (await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) }));
  await store.migrate();
  const events = overrides.events ?? createEventBus();
  const metrics = overrides.metrics ?? createMetrics({ processMetrics: false });
  const a = await createTenantWithKeys(store, 'acme', { slug: 'frontcore-main', provider: 'frontcore' });
  const b = await createTenantWithKeys(store, 'globex', { slug: 'frontcore-main', provider: 'frontcore' });
  const app = createApp({ rateLimit: null, ...overrides, store, events, metrics });
  const responses = createResponseCheck(app);
  const resolvePeople = createPersonResolver();
  return {
    store,
    app,
    events,
    metrics,
    a,
    b,
    async call(method, url, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.key !== null && opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
      const res =
        opts.rawBody !== undefined
          ? await app.inject({ method, url, headers: { 'content-type': 'application/json', ...headers }, payload: opts.rawBody })
          : opts.body === undefined
            ? await app.inject({ method, url, headers })
            : await app.inject({ method, url, headers, payload: opts.body as object });
      if (options.checkAnswers !== false) responses.check(res);
      return res;
    },
    checkAnswer: (res) => responses.check(res),
    async seed(source, certificates, opts) {
      await store.certificates.savePage(source.id, certificates, { seeded: true }, {
        resolvePeople,
        ...(opts?.now === undefined ? {} : { now: opts.now }),
      });
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** Every route the API registers (as data), for tests that walk them all: built from inert deps, nothing served. */
export function listRoutes(store: Store): RegisteredRoute[] {
  const table = createRouteTable();
  registerAllRoutes(table, {
    store,
    events: createEventBus(),
    metrics: createMetrics({ processMetrics: false }),
    connector: null,
    sync: null,
    // Inert: nothing is served, so the clock is never read for an answer.
    now: () => new Date(DEFAULT_TEST_START),
    egress: createEgressGuard(),
    wakeWebhooks: () => undefined,
    wakePushes: () => undefined,
  });
  return [...table.routes];
}
