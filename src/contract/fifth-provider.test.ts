/**
 * Adding a provider is shown, not claimed: a small fifth provider, defined here against a tiny fake server, is
 * registered and then met as a user meets any provider: its settings fields at GET /v1/providers, a source of it
 * created over the API, synced, and its certificates read back over the API. No file outside this test names it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpUrl, secret } from '../config/fields.ts';
import type { NormalizedCertificate } from '../domain/certificate.ts';
import { startHub, type RunningHub } from '../hub.ts';
import { resolvedConfigSchema, type Provider } from '../providers/provider.ts';
import { registerProvider } from '../providers/registry.ts';
import { createStore, DEFAULT_TENANT_SLUG, type Store } from '../store/index.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';

const TOKEN = 'acme-token-5f1c9e';

/** The fake platform: `GET /badges` behind a bearer token, two badges. */
function startAcme(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    if (req.url !== '/badges') {
      res.writeHead(404).end();
      return;
    }
    const badges = [
      { id: 'b-1', learner: 'ada@example.com', name: 'Ada Lovelace', course: 'FORKLIFT', title: 'Forklift driving', awarded: '2026-03-01' },
      { id: 'b-2', learner: 'alan@example.com', name: 'Alan Turing', course: 'FIRST-AID', title: 'First aid', awarded: '2026-04-15' },
    ];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ badges }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const acmeSettings = { base_url: httpUrl(), token: secret() };
const acmeConfigSchema = resolvedConfigSchema(acmeSettings);
const badgesSchema = z.object({
  badges: z.array(z.object({ id: z.string(), learner: z.string(), name: z.string(), course: z.string(), title: z.string(), awarded: z.string() })),
});

const acmeProvider: Provider<z.output<typeof acmeConfigSchema>> = {
  id: 'acme-badges',
  title: 'Acme Badges',
  settings: acmeSettings,
  configSchema: acmeConfigSchema,
  secrets: [['token']],
  form: [
    { name: 'base_url', label: 'Base URL', placeholder: 'https://badges.acme.example' },
    { name: 'token', label: 'API token' },
  ],
  completeness: 'full-scan',
  async *pull(ctx) {
    const res = await ctx.http.request({
      method: 'GET',
      url: `${ctx.config.base_url}/badges`,
      endpoint: 'GET /badges',
      headers: { authorization: `Bearer ${ctx.config.token}` },
      signal: ctx.signal,
    });
    const { badges } = badgesSchema.parse(res.data);
    const certificates: NormalizedCertificate[] = badges.map((b) => {
      const [first = null, last = null] = b.name.split(' ');
      return {
        external_id: b.id,
        status: 'awarded',
        subject: { provider_user_id: b.learner, email: b.learner, first_name: first, last_name: last, date_of_birth: null },
        achievement: { type: 'course', external_id: b.course, title: b.title, code: b.course },
        issued_at: `${b.awarded}T00:00:00.000Z`,
        valid_from: b.awarded,
        valid_until: null,
        serial: null,
        file: { available: false },
        raw: b,
      };
    });
    yield { certificates, checkpoint: {}, progress: { done: certificates.length, total: certificates.length } };
  },
};

describe('a fifth provider, registered by a test', () => {
  let acme: Server;
  let store: Store;
  let hub: RunningHub;
  let auth: { authorization: string };

  beforeAll(async () => {
    registerProvider(acmeProvider);
    acme = await startAcme();
    store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
    await store.migrate();
    const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
    const key = await store.apiKeys.createKey(tenant.id, { name: 'fifth', role: 'admin' });
    auth = { authorization: `Bearer ${key.secret}` };
    hub = await startHub({ store, logger: pino({ level: 'silent' }), host: '127.0.0.1', port: 0, webRoot: null, schedule: false, rateLimit: null, outbound: ALLOW_PRIVATE_EGRESS });
  });
  afterAll(async () => {
    await hub?.stop();
    await store?.close();
    await new Promise((resolve) => acme?.close(resolve));
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('serves its settings fields, syncs a source of it, and answers its certificates', async () => {
    const providers = await call('GET', '/v1/providers');
    expect(providers.status).toBe(200);
    const items = providers.body.items as { id: string }[];
    expect(items.map((p) => p.id)).toContain('acme-badges');
    expect(items.find((p) => p.id === 'acme-badges')).toEqual({
      id: 'acme-badges',
      title: 'Acme Badges',
      completeness: 'full-scan',
      rate_limit: null,
      files: false,
      live_status: false,
      settings: [
        { name: 'base_url', label: 'Base URL', secret: false, optional: false, placeholder: 'https://badges.acme.example' },
        { name: 'token', label: 'API token', secret: true, optional: false, placeholder: null },
      ],
    });

    const base = `http://127.0.0.1:${(acme.address() as AddressInfo).port}`;
    const created = await call('POST', '/v1/sources', { id: 'acme-main', provider: 'acme-badges', base_url: base, token: TOKEN });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'acme-main', provider: 'acme-badges', has_credentials: true, settings: { base_url: base } });
    expect(JSON.stringify(created.body)).not.toContain(TOKEN);
    // A setting it does not take is refused like any certhub.yaml mistake.
    expect((await call('POST', '/v1/sources', { id: 'acme-2', provider: 'acme-badges', base_url: base, token: TOKEN, api_key: 'x' })).status).toBe(400);

    const started = await call('POST', '/v1/sources/acme-main/sync', {});
    expect(started.status).toBe(202);
    let run: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      run = (await call('GET', `/v1/sync-runs/${String(started.body.run_id)}`)).body;
      if (run.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(run).toMatchObject({ status: 'succeeded', provider: 'acme-badges', certificates: { created: 2 } });

    const certs = await call('GET', '/v1/certificates?source=acme-main');
    expect(certs.status).toBe(200);
    const list = certs.body.items as { provider: string; external_id: string; achievement: { code: string } }[];
    expect(list.map((c) => [c.provider, c.external_id, c.achievement.code]).sort()).toEqual([
      ['acme-badges', 'b-1', 'FORKLIFT'],
      ['acme-badges', 'b-2', 'FIRST-AID'],
    ]);
    // The registered provider's id is a filter value like any other.
    expect((await call('GET', '/v1/certificates?provider=acme-badges')).body.items).toHaveLength(2);
  });
});
