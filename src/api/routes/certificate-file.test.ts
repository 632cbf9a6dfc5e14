/** GET /v1/certificates/:id/file against the real provider simulators over real sockets, synced for real. */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyConfiguredSources } from '../../config/apply.ts';
import type { Config, SourceConfig } from '../../config/index.ts';
import type { Certificate, ProviderId } from '../../domain/certificate.ts';
import { CONTRACT_CASES, openedxSumacCase } from '../../contract/cases.testkit.ts';
import { counters, type RunningProvider } from '../../contract/harness.testkit.ts';
import type { AnyProvider } from '../../providers/registry.ts';
import { generateWorld } from '../../simulators/common/world.ts';
import { createTestClock } from '../../test-clock.testkit.ts';
import { createSourceConnector, type SourceConnector } from '../../providers/connector.ts';
import { createStore, type Store } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { syncConfigured } from '../../sync/sync.testkit.ts';
import { createTestHub, type TestHub } from '../app.testkit.ts';
import { databaseOf } from '../../store/database.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../../providers/http/egress.ts';

interface Running {
  run: RunningProvider;
  source: SourceConfig;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Requests the provider API saw (the simulator also counts its own /__sim control calls, these among them). */
async function providerRequests(simUrl: string): Promise<number> {
  const snapshot = await counters(simUrl);
  return Object.entries(snapshot.requests_by_endpoint)
    .filter(([name]) => !name.includes('/__sim'))
    .reduce((sum, [, n]) => sum + n, 0);
}

describe('certificate files from the provider simulators', () => {
  let store: Store;
  let hub: TestHub;
  const sims = new Map<ProviderId, Running>();
  // The simulators and the syncs share one pinned clock; the worlds are dated up to the day before it.
  const clock = createTestClock('2026-06-02T10:00:00Z');

  beforeAll(async () => {
    store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
    await store.migrate();
    hub = await createTestHub({ store, connector: createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS }) });
    // Open edX on Sumac with download URLs: Teak's credentials have no file to serve.
    for (const c of CONTRACT_CASES.map((k) => (k.provider === 'openedx' ? openedxSumacCase : k))) {
      const world = generateWorld({ seed: `files-${c.provider}`, people: Math.min(c.people, 40), asOf: clock.asOf });
      const run = await c.start(world, { clock: clock.now });
      const source = { ...run.source, id: `sim-${c.provider}`, tenant: hub.a.slug };
      sims.set(c.provider, { run, source });
      await applyConfiguredSources(store, { sources: [source] } as Config);
      const report = await syncConfigured(store, source, { now: clock.now });
      expect(report.status, JSON.stringify(report.error)).toBe('succeeded');
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all([...sims.values()].map((s) => s.run.close().catch(() => undefined)));
    await hub.close();
  });

  const sim = (provider: ProviderId): Running => {
    const s = sims.get(provider);
    if (s === undefined) throw new Error(`no ${provider} simulator`);
    return s;
  };

  const withFiles = async (provider: ProviderId): Promise<Certificate[]> => {
    const res = await hub.call('GET', `/v1/certificates?source=sim-${provider}&status=awarded&limit=1000`, { key: hub.a.readKey });
    expect(res.statusCode).toBe(200);
    return (res.json().items as Certificate[]).filter((c) => c.file.available);
  };

  const getFile = (id: string, headers: Record<string, string> = {}) =>
    hub.call('GET', `/v1/certificates/${id}/file`, { key: hub.a.readKey, headers });

  it('fetches a FrontCore diploma once through a fresh link, archives it, and serves the archive afterwards', async () => {
    const { run } = sim('frontcore');
    const [cert] = await withFiles('frontcore');
    expect(cert?.file.sha256).toBeNull();
    const versionsBefore = await store.certificates.listCertificateVersions(hub.a.id, cert!.id);

    const before = await counters(run.simUrl);
    const providerBefore = await providerRequests(run.simUrl);
    const first = await getFile(cert!.id);
    expect(first.statusCode, first.body).toBe(200);
    const after = await counters(run.simUrl);
    const providerAfter = await providerRequests(run.simUrl);
    const delta = (name: string) => (after.requests_by_endpoint[name] ?? 0) - (before.requests_by_endpoint[name] ?? 0);
    expect(delta('GET /v2/diplomas')).toBe(1);
    expect(delta('GET /v2/public/course-users/:user_id/diplomas/:id/download')).toBe(1);
    expect(providerAfter - providerBefore).toBe(2);

    const bytes = first.rawPayload;
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(first.headers['content-type']).toBe('application/pdf');
    expect(first.headers.etag).toBe(`"${sha256(bytes)}"`);
    expect(first.headers['content-disposition']).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.pdf"$/);
    expect(Number(first.headers['content-length'])).toBe(bytes.length);

    const stored = await hub.call('GET', `/v1/certificates/${cert!.id}`, { key: hub.a.readKey });
    expect(stored.json().file).toEqual({ available: true, sha256: sha256(bytes) });
    expect(stored.json().updated_at).toBe(cert!.updated_at);
    expect(await store.certificates.listCertificateVersions(hub.a.id, cert!.id)).toEqual(versionsBefore);

    const second = await getFile(cert!.id);
    expect(second.statusCode).toBe(200);
    expect(second.rawPayload.equals(bytes)).toBe(true);
    expect(second.headers.etag).toBe(first.headers.etag);
    const cached = await getFile(cert!.id, { 'if-none-match': String(first.headers.etag) });
    expect(cached.statusCode).toBe(304);
    expect(cached.rawPayload).toHaveLength(0);
    expect(await providerRequests(run.simUrl)).toBe(providerAfter);
  });

  it("answers 404 for a diploma FrontCore has deleted since the sync, naming why", async () => {
    const { run } = sim('frontcore');
    const cert = (await withFiles('frontcore')).find((c) => c.file.sha256 === null)!;
    const del = await fetch(`${run.simUrl}/__sim/diplomas/${cert.external_id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const res = await getFile(cert.id);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
    expect(res.json().error.message).toMatch(/deleted/);
  });

  it.each(['falkor', 'openedx'] as const)('serves %s PDFs from their links', async (provider) => {
    const { run } = sim(provider);
    const [cert] = await withFiles(provider);
    expect(cert).toBeDefined();
    const first = await getFile(cert!.id);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(first.headers.etag).toBe(`"${sha256(first.rawPayload)}"`);
    const total = await providerRequests(run.simUrl);
    expect((await getFile(cert!.id)).rawPayload.equals(first.rawPayload)).toBe(true);
    expect(await providerRequests(run.simUrl)).toBe(total);
  });

  it('answers 404 for Springest certificates: its API hands out no files', async () => {
    const res = await hub.call('GET', '/v1/certificates?source=sim-springest&limit=1', { key: hub.a.readKey });
    const [cert] = res.json().items as Certificate[];
    expect(cert?.file.available).toBe(false);
    const file = await getFile(cert!.id);
    expect(file.statusCode).toBe(404);
    expect(file.json().error).toMatchObject({ code: 'not_found', message: expect.stringMatching(/no file/) as string });
  });

  it('answers 502 in the error shape, without secrets, when the provider is down; archived files still serve', async () => {
    const { run, source } = sim('frontcore');
    const all = await withFiles('frontcore');
    const archived = all.find((c) => c.file.sha256 !== null)!;
    const fresh = all.find((c) => c.file.sha256 === null)!;
    await run.close();
    const res = await getFile(fresh.id);
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json().error.code).toBe('provider_unavailable');
    expect(res.json().error.message).toMatch(/^fetching the file of certificate /);
    expect(res.body).not.toContain(String(source.api_key));
    expect((await getFile(archived.id)).statusCode).toBe(200);
  }, 60_000);
});

describe('certificate files a provider gets wrong', () => {
  const fakeConnector = (fetchFile: AnyProvider['fetchFile']): SourceConnector => ({
    configOf: () => Promise.reject(new Error('not used')),
    open: (source) =>
      Promise.resolve({
        source,
        resolved: {} as SourceConfig,
        config: {},
        provider: {
          id: 'frontcore',
          title: 'Fake',
          settings: {},
          configSchema: z.unknown(),
          secrets: [],
          form: [],
          completeness: 'incremental',
          pull: () => (async function* () {})(),
          ...(fetchFile ? { fetchFile } : {}),
        },
        http: {} as never,
        secrets: [],
        close: () => Promise.resolve(),
      }),
  });

  it('answers 502 provider_error for bytes that are not a PDF, and archives nothing', async () => {
    const hub = await createTestHub({
      connector: fakeConnector(() => Promise.resolve({ bytes: Buffer.from('<html>login</html>'), contentType: 'application/pdf', filename: 'x.pdf' })),
    });
    try {
      await hub.seed(hub.a.source, [sampleCertificate(1)]);
      const cert = (await hub.store.certificates.getCertificateByExternalId(hub.a.source.tenant_id, hub.a.source.id, 'ext-1'))!;
      const res = await hub.call('GET', `/v1/certificates/${cert.id}/file`, { key: hub.a.readKey });
      expect(res.statusCode).toBe(502);
      expect(res.json().error.code).toBe('provider_error');
      expect(res.json().error.message).toMatch(/not a PDF/);
      expect(await databaseOf(hub.store).selectFrom('file_blobs').selectAll().execute()).toEqual([]);
      expect((await hub.store.certificates.getCertificate(hub.a.id, cert.id))!.file.sha256).toBeNull();
    } finally {
      await hub.close();
    }
  });
});
