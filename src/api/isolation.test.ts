/**
 * Tenant isolation, probed at every route: tenant A's admin key, given tenant B's ids, gets 404 exactly as for an
 * unknown id (never 403, never data); A's lists, reports and status checks never show anything of B; and nothing of
 * B changes whatever A tries.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleCertificate } from '../store/sample-certificate.testkit.ts';
import type { RegisteredRoute } from './route.ts';
import { createTestHub, listRoutes, type TestHub } from './app.testkit.ts';
import { databaseOf } from '../store/database.testkit.ts';

const NIN = '01019012138';

/** Every row of tenant B, as text: must not change. */
async function tenantRows(hub: TestHub, tenantId: string): Promise<string> {
  const out: string[] = [];
  for (const table of ['sources', 'people', 'person_identities', 'certificates', 'requirements', 'api_keys', 'person_suggestions', 'person_merges', 'webhook_endpoints', 'events', 'push_rules', 'pushes']) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)} where tenant_id = ${tenantId} order by id`.execute(databaseOf(hub.store));
    out.push(JSON.stringify(rows.rows.map((r) => ({ ...r, last_used_at: undefined }))));
  }
  const runs = await sql`select r.* from sync_runs r join sources s on s.id = r.source_id where s.tenant_id = ${tenantId} order by r.id`.execute(databaseOf(hub.store));
  out.push(JSON.stringify(runs.rows));
  const deliveries = await sql`select o.* from outbox o join webhook_endpoints w on w.id = o.target_id where w.tenant_id = ${tenantId} order by o.id`.execute(databaseOf(hub.store));
  out.push(JSON.stringify(deliveries.rows));
  const pushActions = await sql`select o.* from outbox o join pushes p on p.id = o.subject_id where o.kind = 'push' and p.tenant_id = ${tenantId} order by o.id`.execute(databaseOf(hub.store));
  out.push(JSON.stringify(pushActions.rows));
  return out.join('\n');
}

describe('tenant isolation at every route', () => {
  let hub: TestHub;
  let routes: RegisteredRoute[];
  const b = { certificate: '', person: '', otherPerson: '', requirement: '', source: 'globex-only', run: '', key: '', suggestion: '', webhook: '', delivery: '', pushRule: '', push: '' };
  let aPerson = '';

  beforeAll(async () => {
    hub = await createTestHub();
    await hub.seed(hub.a.source, [sampleCertificate(1, { subject: { provider_user_id: 'a1', email: 'anna@acme.example', first_name: 'Anna', last_name: 'Acme', date_of_birth: '1980-01-01' } })]);
    const bOnly = await hub.store.sources.upsertSourceFromConfig(hub.b.id, {
      slug: b.source,
      provider: 'frontcore',
      settings: { base_url: 'http://127.0.0.1:9', timezone: 'Europe/Oslo', sync_every_ms: 3_600_000 },
      credentials: { api_key: 'globex-secret-key' },
    });
    // Two B people with the same name and birth date but other emails: a suggested match.
    const subject = (n: number, email: string) => ({
      provider_user_id: `b${n}`,
      email,
      first_name: 'Bodil',
      last_name: 'Globex',
      date_of_birth: '1970-07-07',
      national_id: n === 1 ? NIN : null,
    });
    await hub.seed(bOnly, [sampleCertificate(11, { subject: subject(1, 'bodil@globex.example') })]);
    await hub.seed(bOnly, [sampleCertificate(12, { subject: subject(2, 'bodil.private@globex.example') })]);
    const certs = await hub.store.certificates.listCertificates(hub.b.id);
    b.certificate = certs.items[0]!.id;
    b.person = certs.items[0]!.person_id!;
    b.otherPerson = certs.items.find((c) => c.person_id !== b.person)!.person_id!;
    b.requirement = (await hub.store.requirements.createRequirement(hub.b.id, { name: 'Globex safety', rule: { any_of: [{ code: 'SAFE-101' }], valid_months_without_end: null, warn_days: 30 } })).id;
    b.run = (await hub.store.sync.startRun(bOnly.id)).id;
    b.key = (await hub.store.apiKeys.listKeys(hub.b.id))[0]!.id;
    const suggestions = await databaseOf(hub.store).selectFrom('person_suggestions').select('id').where('tenant_id', '=', hub.b.id).execute();
    expect(suggestions.length).toBeGreaterThan(0);
    b.suggestion = suggestions[0]!.id;
    b.webhook = (await hub.store.webhooks.createEndpoint(hub.b.id, { url: 'https://hooks.globex.example/certhub' })).endpoint.id;
    b.delivery = (await hub.store.webhooks.queueTest(hub.b.id, b.webhook)).id;
    const bSpringest = await hub.store.sources.upsertSourceFromConfig(hub.b.id, {
      slug: 'globex-springest',
      provider: 'springest',
      settings: { base_url: 'http://127.0.0.1:9' },
      credentials: { api_key: 'globex-springest-key' },
    });
    const bCert = certs.items[0]!;
    b.pushRule = (
      await hub.store.pushes.createRule(hub.b.id, {
        name: 'Globex to Springest',
        match: { achievement: { external_id: bCert.achievement.external_id } },
        target_source_id: bSpringest.id,
        target: { certification_id: '42', verify_within_days: 30 },
        target_key: 'certification:42',
      })
    ).id;
    b.push = (await hub.store.pushes.listPushes(hub.b.id)).items[0]!.id;
    aPerson = (await hub.store.certificates.listCertificates(hub.a.id)).items[0]!.person_id!;

    routes = listRoutes(hub.store);
  });
  afterAll(() => hub.close());

  function idFor(url: string): string {
    if (url.startsWith('/v1/certificates/')) return b.certificate;
    if (url.startsWith('/v1/people/')) return b.person;
    if (url.startsWith('/v1/suggestions/')) return b.suggestion;
    if (url.startsWith('/v1/requirements/')) return b.requirement;
    if (url.startsWith('/v1/sources/')) return b.source;
    if (url.startsWith('/v1/sync-runs/')) return b.run;
    if (url.startsWith('/v1/keys/')) return b.key;
    if (url.startsWith('/v1/webhooks/')) return b.webhook;
    if (url.startsWith('/v1/webhook-deliveries/')) return b.delivery;
    if (url.startsWith('/v1/push-rules/')) return b.pushRule;
    if (url.startsWith('/v1/pushes/')) return b.push;
    throw new Error(`no tenant-B id known for ${url}: add it to this test`);
  }

  /** A body that would be accepted for A's own resource, so that only the ownership check can refuse it. */
  const BODIES: Record<string, unknown> = {
    updateRequirement: { name: 'Renamed by A' },
    updateSource: { enabled: false },
    syncSource: {},
    testSource: {},
    mergeSuggestion: {},
    rejectSuggestion: {},
    updateWebhook: { description: 'Renamed by A' },
    updatePushRule: { paused: true },
  };

  it("answers 404 to A for every one of B's ids, on every route that takes an id, and changes nothing of B", async () => {
    const before = await tenantRows(hub, hub.b.id);
    const withIds = routes.filter((r) => r.url.includes(':'));
    expect(withIds.length).toBeGreaterThan(15);
    for (const route of withIds) {
      const url = route.url.replace(/:id\b/, encodeURIComponent(idFor(route.url)));
      // Merging A's own person into B's person: only B's id in the path can make it fail.
      const resolved =
        route.body === undefined
          ? undefined
          : route.operationId === 'mergePeople' || route.operationId === 'unmergePeople'
            ? { person_id: aPerson }
            : (BODIES[route.operationId] ?? {});
      const res = await hub.call(route.method, url, { key: hub.a.adminKey, ...(resolved === undefined ? {} : { body: resolved }) });
      expect(res.statusCode, `${route.method} ${url}: ${res.body.slice(0, 200)}`).toBe(404);
      expect(res.json().error.code).toBe('not_found');
      // The same answer as for an id that exists nowhere: nothing to infer.
      const unknown = await hub.call(route.method, route.url.replace(/:id\b/, 'no-such-id'), { key: hub.a.adminKey, ...(resolved === undefined ? {} : { body: resolved }) });
      expect(unknown.statusCode, `${route.method} ${route.url} with an unknown id`).toBe(404);
    }
    // A's merge with B's person as the one merged in is refused the same way.
    const cross = await hub.call('POST', `/v1/people/${aPerson}/merge`, { key: hub.a.adminKey, body: { person_id: b.person } });
    expect(cross.statusCode).toBe(404);
    expect(await tenantRows(hub, hub.b.id)).toBe(before);
  });

  it("never shows B's data in A's lists, searches, reports or status checks", async () => {
    const bMarkers = [b.certificate, b.person, b.otherPerson, b.requirement, b.run, b.key, b.suggestion, b.webhook, b.delivery, b.pushRule, b.push, 'globex', 'Bodil', NIN];
    const probes: Array<[method: 'GET' | 'POST', url: string, body?: unknown]> = [
      ['GET', '/v1/certificates?limit=1000'],
      ['GET', '/v1/certificates?email=bodil%40globex.example'],
      ['GET', `/v1/certificates?person=${b.person}`],
      ['GET', '/v1/people?q=Bodil'],
      ['GET', `/v1/people?q=${NIN}`],
      ['GET', '/v1/suggestions'],
      ['GET', '/v1/requirements'],
      ['GET', '/v1/reports/expiring?days=3650'],
      ['GET', '/v1/sources'],
      ['GET', '/v1/sync-runs'],
      ['GET', '/v1/keys'],
      ['GET', '/v1/webhooks'],
      ['GET', '/v1/push-rules'],
      ['GET', '/v1/pushes'],
      ['POST', '/v1/status', { person: { email: 'bodil@globex.example' } }],
      ['POST', '/v1/status', { person: { national_id: NIN } }],
      ['POST', '/v1/status/bulk', { people: [{ email: 'bodil@globex.example' }, { date_of_birth: '1970-07-07', name: 'Bodil Globex' }] }],
    ];
    for (const [method, url, body] of probes) {
      const res = await hub.call(method, url, { key: hub.a.adminKey, ...(body === undefined ? {} : { body }) });
      expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 200)}`).toBe(200);
      for (const marker of bMarkers) expect(res.body, `${method} ${url} shows ${marker}`).not.toContain(marker);
    }
    const single = await hub.call('POST', '/v1/status', { key: hub.a.readKey, body: { person: { email: 'bodil@globex.example' } } });
    expect(single.json().found).toBe(false);
  });
});
