/**
 * Property-based: thousands of random and malformed requests at every route. Whatever arrives, the API answers with
 * a status below 500 in the error shape, and a 4xx leaves the store exactly as it was.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleCertificate } from '../store/sample-certificate.testkit.ts';
import type { RegisteredRoute } from './route.ts';
import { createTestHub, type TestHub } from './app.testkit.ts';
import { createRouteTable } from './route.ts';
import { registerAllRoutes } from './routes/index.ts';
import { createEventBus } from '../events.ts';
import { createMetrics } from './metrics.ts';
import { databaseOf } from '../store/database.testkit.ts';

/** Streams never end on their own; they get their own tests. */
const SKIP = new Set(['streamEvents']);

const TABLES = [
  'tenants',
  'sources',
  'people',
  'person_identities',
  'certificates',
  'certificate_versions',
  'achievements',
  'sync_checkpoints',
  'sync_runs',
  'person_suggestions',
  'api_keys',
  'requirements',
  'file_blobs',
  'person_merges',
] as const;

async function snapshot(hub: TestHub): Promise<string> {
  const parts: string[] = [];
  for (const table of TABLES) {
    // last_used_at moves on any authenticated request, by design; it is not data a request may change.
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by 1`.execute(databaseOf(hub.store));
    parts.push(JSON.stringify(rows.rows.map((r) => ({ ...r, last_used_at: undefined }))));
  }
  return parts.join('\n');
}

const junkText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', '0', '-1', '1e309', 'null', 'true', '[]', '{}', '%00', '../../etc/passwd', "' or 1=1 --", '😀', 'a'.repeat(600)),
  fc.integer().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

const junkJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom('name', 'role', 'person', 'people', 'email', 'rule', 'any_of', 'id', 'provider', 'base_url', 'full', 'person_id', 'merge_id', 'achievements', 'requirement', 'as_of'), fc.anything({ maxDepth: 2 })),
);

function pathFor(route: RegisteredRoute, values: string[]): string {
  let i = 0;
  return route.url.replace(/:([A-Za-z0-9_]+)/g, () => encodeURIComponent(values[i++] ?? 'x') || 'x');
}

function queryKeys(route: RegisteredRoute): string[] {
  return route.query === undefined ? [] : Object.keys(route.query.shape);
}

describe('random and malformed requests at every route', () => {
  let hub: TestHub;
  let routes: RegisteredRoute[];
  beforeAll(async () => {
    hub = await createTestHub();
    await hub.seed(hub.a.source, [sampleCertificate(1), sampleCertificate(2, { status: 'revoked' })]);
    const table = createRouteTable();
    registerAllRoutes(table, { store: hub.store, events: createEventBus(), metrics: createMetrics({ processMetrics: false }), connector: null, sync: null, now: () => new Date() });
    routes = table.routes.filter((r) => !SKIP.has(r.operationId));
  });
  afterAll(() => hub.close());

  it('never answers 5xx, always in the error shape, and a 4xx changes nothing', async () => {
    expect(routes.length).toBeGreaterThan(30);
    const request = fc.record({
      routeIndex: fc.nat(),
      pathValues: fc.array(junkText, { minLength: 3, maxLength: 3 }),
      query: fc.array(fc.tuple(fc.oneof(fc.constant('limit'), fc.constant('cursor'), fc.string({ maxLength: 10 }), fc.constant('__known__')), junkText), { maxLength: 5 }),
      body: fc.oneof(junkJson.map((v) => ({ json: v })), fc.string({ maxLength: 60 }).map((raw) => ({ raw }))),
      key: fc.constantFrom('admin', 'read', 'none', 'bad'),
    });
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const route = routes[req.routeIndex % routes.length]!;
        const known = queryKeys(route);
        const qs = new URLSearchParams();
        req.query.forEach(([k, v], n) => qs.append(k === '__known__' ? (known[n % Math.max(known.length, 1)] ?? 'q') : k, v));
        const url = `${pathFor(route, req.pathValues)}${qs.size > 0 ? `?${qs.toString()}` : ''}`;
        const key = req.key === 'admin' ? hub.a.adminKey : req.key === 'read' ? hub.a.readKey : req.key === 'bad' ? 'chk_nope' : null;
        const before = await snapshot(hub);
        const opts = 'raw' in req.body ? { key, rawBody: req.body.raw } : { key, body: req.body.json ?? {} };
        const res = await hub.call(route.method, url, route.method === 'GET' || route.method === 'DELETE' ? { key } : opts);
        calls++;
        expect(res.statusCode, `${route.method} ${url} -> ${res.body.slice(0, 300)}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          const where = `${route.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
          const body = res.json();
          expect(typeof body.error?.code, where).toBe('string');
          expect(typeof body.error?.message, where).toBe('string');
          expect(await snapshot(hub), `${route.method} ${url} changed the store with a ${res.statusCode}`).toBe(before);
        }
      }),
      { numRuns: 2500, seed: Number(process.env.CERTHUB_FUZZ_SEED ?? 20261123) },
    );
    expect(calls).toBe(2500);
  }, 240_000);
});
