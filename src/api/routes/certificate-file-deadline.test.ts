/**
 * Finding 6 of issue 13: GET /v1/certificates/{id}/file against a provider that drips its answer a byte every 100 ms,
 * on loopback: the route gives up at its deadline in the error shape, and a client that leaves stops the fetch.
 */
import { randomBytes } from 'node:crypto';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSourceConnector } from '../../providers/connector.ts';
import { ALLOW_PRIVATE_EGRESS } from '../../providers/http/egress.ts';
import { createStore, type Store } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { createTenantWithKeys, createTestHub, type TestHub, type TestTenant } from '../app.testkit.ts';

/** A FrontCore that answers every request with headers, then one byte every 100 ms, never finishing. */
function startDripProvider() {
  const sockets = new Set<Socket>();
  const closed: Promise<void>[] = [];
  let requested = () => undefined as void;
  let firstRequest = new Promise<void>((r) => (requested = r));
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"items":[');
    const drip = setInterval(() => res.write(' '), 100);
    res.on('close', () => clearInterval(drip));
    requested();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    closed.push(new Promise((r) => socket.on('close', () => r())));
  });
  return {
    server,
    /** Resolves once every connection the hub opened has been closed. */
    allClosed: () => Promise.all(closed),
    openSockets: () => [...sockets].filter((s) => !s.destroyed).length,
    requestArrived: () => firstRequest,
    reset: () => {
      closed.length = 0;
      firstRequest = new Promise<void>((r) => (requested = r));
    },
    async listen(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('finding 6: the file route and a drip-feeding provider', () => {
  const drip = startDripProvider();
  let store: Store;
  let hub: TestHub;
  let tenant: TestTenant;
  let certId: string;

  beforeAll(async () => {
    const base = await drip.listen();
    store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
    await store.migrate();
    hub = await createTestHub({ store, connector: createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS }), fileDeadlineMs: 500 });
    tenant = await createTenantWithKeys(store, 'drip', {
      slug: 'frontcore-drip',
      provider: 'frontcore',
      settings: { base_url: base, timezone: 'Europe/Oslo', sync_every_ms: 3_600_000 },
    });
    await hub.seed(tenant.source, [sampleCertificate(1, { raw: { id: 1, participant_id: 77 } })]);
    certId = (await store.certificates.getCertificateByExternalId(tenant.id, tenant.source.id, 'ext-1'))!.id;
  });
  afterEach(() => drip.reset());
  afterAll(async () => {
    await hub.close();
    await drip.close();
  });

  it('finding 6: a provider that drips its answer is cut off at the route deadline: 502 provider_unavailable in the error shape, its connection closed', async () => {
    const res = await hub.call('GET', `/v1/certificates/${certId}/file`, { key: tenant.readKey });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ error: { code: 'provider_unavailable', message: expect.stringMatching(/did not hand out the file within 0\.5 s/) } });
    await drip.allClosed();
    expect(drip.openSockets()).toBe(0);
    // Nothing was archived.
    expect((await store.certificates.getCertificate(tenant.id, certId))!.file.sha256).toBeNull();
  });

  it('finding 6: a client that disconnects makes the provider see its connection closed', async () => {
    const leaving = await createTestHub({ store, connector: createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS }), fileDeadlineMs: 600_000 });
    try {
      const url = await leaving.app.listen({ host: '127.0.0.1', port: 0 });
      const req = get(`${url}/v1/certificates/${certId}/file`, { headers: { authorization: `Bearer ${tenant.readKey}` } });
      req.on('error', () => undefined);
      await drip.requestArrived();
      expect(drip.openSockets()).toBeGreaterThan(0);
      req.destroy();
      // With a ten-minute deadline, only the client's leaving can close the provider's connection.
      await drip.allClosed();
      expect(drip.openSockets()).toBe(0);
    } finally {
      // The app only: the store is this suite's.
      await leaving.app.close();
    }
  });
});
