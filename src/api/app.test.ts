import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { createStore, type Store } from '../store/index.ts';
import { createApp } from './app.ts';
import { jsonDeeperThan } from '../json-depth.ts';
import { createTestHub, type TestHub } from './app.testkit.ts';

describe('createApp', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub();
  });
  afterAll(() => hub.close());

  it('answers /healthz without touching the store', async () => {
    const res = await hub.call('GET', '/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('is ready when the store answers', async () => {
    const res = await hub.call('GET', '/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('is not ready, with a 503 and the reason, when the store does not answer', async () => {
    const store: Store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
    await store.migrate();
    const down = Object.assign(Object.create(store) as Store, {
      ping: () => Promise.reject(new AppError('database_unavailable', 'cannot connect to PostgreSQL at db:5432/certhub: ECONNREFUSED')),
    });
    const app = createApp({ store: down });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    // What is unavailable, not where it lives: the host and port stay in the log.
    expect(res.json()).toEqual({ error: { code: 'database_unavailable', message: 'the database does not answer' } });
    expect(res.body).not.toContain('db:5432');
    await app.close();
    await store.close();
  });

  it('finding 11: sends security headers on every answer: nosniff, no framing, no referrer', async () => {
    for (const url of ['/healthz', '/v1/me', '/openapi.json', '/nope']) {
      const res = await hub.call('GET', url);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(String(res.headers['content-security-policy']), url).toContain("frame-ancestors 'none'");
    }
  });

  it('finding 7: checks the key before it reads the body: without one, even malformed or oversized JSON is a 401', async () => {
    const broken = await hub.call('POST', '/v1/requirements', { rawBody: '{"name": ' });
    expect(broken.statusCode).toBe(401);
    expect(broken.json().error.code).toBe('unauthorized');
    const huge = await hub.call('POST', '/v1/requirements', { rawBody: `{"pad": "${'x'.repeat(5 * 1024 * 1024)}"}` });
    expect(huge.statusCode).toBe(401);
    // With a key the same body is read, and refused for what it is.
    const keyed = await hub.call('POST', '/v1/requirements', { key: hub.a.adminKey, rawBody: '{"name": ' });
    expect(keyed.statusCode).toBe(400);
    expect(keyed.json().error.code).toBe('invalid_request');
    const read = await hub.call('POST', '/v1/requirements', { key: hub.a.readKey, rawBody: '{"name": ' });
    expect(read.statusCode).toBe(403);
  });

  it('finding 7: refuses JSON nested deeper than 32 levels before parsing it, and keeps answering', async () => {
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    const res = await hub.call('POST', '/v1/requirements', { key: hub.a.adminKey, rawBody: deep });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'invalid_request', message: 'body: JSON nested deeper than 32 levels' });
    expect((await hub.call('GET', '/healthz')).statusCode).toBe(200);
    // Brackets inside strings are text, not nesting; 32 levels are still read (and judged by the route's schema).
    expect(jsonDeeperThan(`{"name": "${'['.repeat(100)}\\"[{"}`, 32)).toBe(false);
    expect(jsonDeeperThan(`${'['.repeat(32)}${']'.repeat(32)}`, 32)).toBe(false);
    expect(jsonDeeperThan(`${'{"a":'.repeat(33)}1${'}'.repeat(33)}`, 32)).toBe(true);
    const ok = await hub.call('POST', '/v1/requirements', { key: hub.a.adminKey, rawBody: `${'['.repeat(32)}${']'.repeat(32)}` });
    expect(ok.statusCode).toBe(400);
    expect(ok.json().error.message).not.toContain('nested');
  });

  it('finding 19: answers what Node refuses before Fastify (headers too large, not HTTP) in the error shape, over a socket', async () => {
    const app = createApp({ store: hub.store });
    const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    try {
      const ask = (raw: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const socket = connect(Number(url.port), '127.0.0.1', () => socket.end(raw));
          let got = '';
          socket.on('data', (c: Buffer) => (got += c.toString('utf8')));
          socket.on('close', () => resolve(got));
          socket.on('error', reject);
        });
      const big = await ask(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(big).toMatch(/^HTTP\/1\.1 431 /);
      expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'invalid_request', message: 'the request headers are too large' } });
      const junk = await ask('NOT HTTP AT ALL\r\n\r\n');
      expect(junk).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(junk.slice(junk.indexOf('\r\n\r\n') + 4)).error.code).toBe('invalid_request');
    } finally {
      await app.close();
    }
  });

  it('answers unknown routes with a 404 in the error shape', async () => {
    const res = await hub.call('POST', '/nope?x=1');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'no route for POST /nope?x=1' } });
  });

  it('refuses API routes without a key, with a malformed header, or with an unknown key', async () => {
    const none = await hub.call('GET', '/v1/me');
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    const basic = await hub.call('GET', '/v1/me', { headers: { authorization: 'Basic abc' } });
    expect(basic.statusCode).toBe(401);
    expect(basic.json().error.message).toMatch(/Bearer/);
    const unknown = await hub.call('GET', '/v1/me', { key: `chk_${'A'.repeat(43)}` });
    expect(unknown.statusCode).toBe(401);
  });

  it('tells a key who it is, scoped to its tenant', async () => {
    const res = await hub.call('GET', '/v1/me', { key: hub.a.readKey });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ key: { role: 'read' }, tenant: { slug: 'acme' } });
    expect(JSON.stringify(res.json())).not.toContain(hub.a.readKey);
  });

  it('lets an admin key create and revoke keys, shows the key once, and a revoked key stops working at once', async () => {
    const created = await hub.call('POST', '/v1/keys', { key: hub.a.adminKey, body: { name: 'ci', role: 'read' } });
    expect(created.statusCode).toBe(201);
    const { key, id, prefix } = created.json<{ key: string; id: string; prefix: string }>();
    expect(key).toMatch(/^chk_/);
    expect(key.startsWith(prefix)).toBe(true);
    expect((await hub.call('GET', '/v1/me', { key })).statusCode).toBe(200);

    const list = await hub.call('GET', '/v1/keys', { key: hub.a.adminKey });
    expect(list.body).not.toContain(key);
    expect(list.json().items.map((k: { id: string }) => k.id)).toContain(id);

    const revoked = await hub.call('DELETE', `/v1/keys/${id}`, { key: hub.a.adminKey });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked_at).not.toBeNull();
    expect((await hub.call('GET', '/v1/me', { key })).statusCode).toBe(401);
  });

  it('keeps a read key from writing, with 403 and a clear message', async () => {
    const res = await hub.call('POST', '/v1/keys', { key: hub.a.readKey, body: { name: 'x', role: 'admin' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toEqual({ code: 'forbidden', message: 'this API key may only read; an admin key is needed' });
  });

  it("answers another tenant's key id with 404, never 403", async () => {
    const keys = await hub.store.apiKeys.listKeys(hub.b.id);
    const res = await hub.call('DELETE', `/v1/keys/${keys[0]!.id}`, { key: hub.a.adminKey });
    expect(res.statusCode).toBe(404);
    expect((await hub.store.apiKeys.listKeys(hub.b.id)).every((k) => k.revoked_at === null)).toBe(true);
  });

  it('names the field of a bad body and refuses unknown fields', async () => {
    const res = await hub.call('POST', '/v1/keys', { key: hub.a.adminKey, body: { name: 'x', role: 'owner' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/^body\.role: /);
    const extra = await hub.call('POST', '/v1/keys', { key: hub.a.adminKey, body: { name: 'x', role: 'read', tenant_id: 'b' } });
    expect(extra.statusCode).toBe(400);
    const malformed = await hub.call('POST', '/v1/keys', { key: hub.a.adminKey, rawBody: '{"name":' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_request');
  });

  it('serves the OpenAPI document and the docs page from the npm package', async () => {
    const doc = await hub.call('GET', '/openapi.json');
    expect(doc.statusCode).toBe(200);
    expect(doc.json().openapi).toBe('3.1.0');
    const page = await hub.call('GET', '/docs');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page.body).not.toMatch(/https?:\/\/(?!127)/);
    const bundle = await hub.call('GET', '/docs/assets/swagger-ui-bundle.js');
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
  });
});

describe('per-key rate limiting', () => {
  it('answers 429 with Retry-After once a key spends its budget, without slowing other keys', async () => {
    const hub = await createTestHub({ rateLimit: { requests: 3, perSeconds: 60 } });
    try {
      for (let i = 0; i < 3; i++) expect((await hub.call('GET', '/v1/me', { key: hub.a.readKey })).statusCode).toBe(200);
      const limited = await hub.call('GET', '/v1/me', { key: hub.a.readKey });
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('rate_limited');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await hub.call('GET', '/v1/me', { key: hub.b.readKey })).statusCode).toBe(200);
    } finally {
      await hub.close();
    }
  });

  it('finding 7: an address that keeps failing to authenticate is answered 429 for its next failures; a valid key still works', async () => {
    const hub = await createTestHub({ rateLimit: { requests: 1000, perSeconds: 60 } });
    try {
      const wrong = 'chk_not-a-key-0123456789abcdefghijklmnopqrstu';
      for (let i = 0; i < 20; i++) {
        const res = await hub.call('GET', '/v1/me', { key: i % 2 === 0 ? wrong : null });
        expect(res.statusCode, `attempt ${i + 1}`).toBe(401);
      }
      const blocked = await hub.call('GET', '/v1/me', { key: wrong });
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().error.code).toBe('rate_limited');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await hub.call('GET', '/v1/me', { key: null })).statusCode).toBe(429);
      // Someone else behind the same address, with a valid key, is not locked out; another address is not held back.
      expect((await hub.call('GET', '/v1/me', { key: hub.a.readKey })).statusCode).toBe(200);
      const other = await hub.app.inject({ method: 'GET', url: '/v1/me', remoteAddress: '127.0.0.2', headers: { authorization: 'Bearer chk_wrong' } });
      expect(other.statusCode).toBe(401);
    } finally {
      await hub.close();
    }
  });
});
