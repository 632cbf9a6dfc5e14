/**
 * Property-based: ten thousand random and malformed requests at every route, bodies included. Whatever arrives, the
 * API answers with a status below 500 in the error shape, and a 4xx leaves the store exactly as it was.
 *
 * Each case stays cheap (issue 13): SQLite's total_changes() counts every row any statement touched on the store's
 * one connection, so an unchanged count proves an unchanged store without reading it; only when the count moved is
 * every table read and compared with the last full snapshot.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleCertificate } from '../store/sample-certificate.testkit.ts';
import type { RegisteredRoute } from './route.ts';
import { createTestHub, listRoutes, type TestHub } from './app.testkit.ts';
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
  'webhook_endpoints',
  'events',
  'outbox',
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

/** Rows inserted, updated or deleted on the store's connection so far (rolled-back ones included: it only ever grows). */
async function totalChanges(hub: TestHub): Promise<number> {
  const row = await sql<{ n: number }>`select total_changes() as n`.execute(databaseOf(hub.store));
  return Number(row.rows[0]?.n ?? 0);
}

/** How many cases: CERTHUB_FUZZ_RUNS, else 10,000. */
const RUNS = Number(process.env.CERTHUB_FUZZ_RUNS ?? 10_000);

const junkText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', '0', '-1', '1e309', 'null', 'true', '[]', '{}', '%00', '../../etc/passwd', "' or 1=1 --", '😀', 'a'.repeat(600)),
  fc.integer().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

const junkJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  // Nested past the API's depth cap, and long arrays where a list is expected.
  fc.integer({ min: 1, max: 60 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown),
  fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.dictionary(fc.constantFrom('email', 'national_id', 'name'), fc.string({ maxLength: 20 }))), { maxLength: 40 }).map((people) => ({ people })),
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
    routes = listRoutes(hub.store).filter((r) => !SKIP.has(r.operationId));
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
    let known = { changes: await totalChanges(hub), snapshot: await snapshot(hub) };
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const route = routes[req.routeIndex % routes.length]!;
        const keys = queryKeys(route);
        const qs = new URLSearchParams();
        req.query.forEach(([k, v], n) => qs.append(k === '__known__' ? (keys[n % Math.max(keys.length, 1)] ?? 'q') : k, v));
        const url = `${pathFor(route, req.pathValues)}${qs.size > 0 ? `?${qs.toString()}` : ''}`;
        const key = req.key === 'admin' ? hub.a.adminKey : req.key === 'read' ? hub.a.readKey : req.key === 'bad' ? 'chk_nope' : null;
        const opts = 'raw' in req.body ? { key, rawBody: req.body.raw } : { key, body: req.body.json ?? {} };
        // GETs without a body, as clients send them; every other method with one (DELETE included: Fastify reads it).
        const res = await hub.call(route.method, url, route.method === 'GET' ? { key } : opts);
        calls++;
        const changes = await totalChanges(hub);
        const moved = changes !== known.changes;
        expect(res.statusCode, `${route.method} ${url} -> ${res.body.slice(0, 300)}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          const where = `${route.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
          const body = res.json();
          expect(typeof body.error?.code, where).toBe('string');
          expect(typeof body.error?.message, where).toBe('string');
          if (moved) {
            expect(await snapshot(hub), `${route.method} ${url} changed the store with a ${res.statusCode}`).toBe(known.snapshot);
          }
        } else if (moved) {
          known = { changes, snapshot: await snapshot(hub) };
        }
        known.changes = changes;
      }),
      { numRuns: RUNS, seed: Number(process.env.CERTHUB_FUZZ_SEED ?? 20261123) },
    );
    expect(calls).toBe(RUNS);
    expect(RUNS).toBeGreaterThanOrEqual(process.env.CERTHUB_FUZZ_RUNS === undefined ? 10_000 : 1);
  }, 240_000);
});
