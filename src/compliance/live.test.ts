/**
 * ?live=true against the real FrontCore and Open edX simulators over real sockets: the sandbox synced into a store,
 * then status checks that also ask the providers, and a stopped provider reported in its own entry.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.ts';
import { applyConfiguredSources } from '../config/apply.ts';
import { loadConfig } from '../config/index.ts';
import type { Certificate } from '../domain/certificate.ts';
import { startSandbox, type RunningSandbox } from '../simulators/sandbox.ts';
import { createSourceConnector } from '../providers/connector.ts';
import { createStore, DEFAULT_TENANT_SLUG, type Store } from '../store/index.ts';
import { syncConfigured } from '../sync/sync.testkit.ts';
import { createTestClock } from '../test-clock.testkit.ts';
import type { FrontcoreLiveAnswer } from '../providers/frontcore/status.ts';
import type { OpenedxLiveAnswer } from '../providers/openedx/status.ts';
import type { LiveEntry } from './live.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';

interface Answer {
  found: boolean;
  person_id: string | null;
  achievements: { standing: string }[];
  live?: LiveEntry[];
}

describe('live status checks against the simulators', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let store: Store;
  let app: FastifyInstance;
  let key: string;
  let tenantId: string;
  const slugs = { frontcore: '', openedx: '' };
  // The simulators, the syncs and the hub share one pinned clock.
  const clock = createTestClock();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certhub-live-'));
    sandbox = await startSandbox({ portBase: 0, people: 40, seed: 'status-live', asOf: clock.asOf, clock: clock.now });
    const file = join(dir, 'certhub.yaml');
    writeFileSync(file, sandbox.configYaml(`sqlite:${join(dir, 'hub.db')}`));
    const config = loadConfig({ path: file, env: {} });
    store = await createStore({ url: config.database, secretKey: randomBytes(32) });
    await store.migrate();
    await applyConfiguredSources(store, config);
    for (const source of config.sources.filter((s) => s.provider === 'frontcore' || s.provider === 'openedx')) {
      slugs[source.provider as 'frontcore' | 'openedx'] = source.id;
      const report = await syncConfigured(store, source, { now: clock.now });
      expect(report.status).toBe('succeeded');
    }
    const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
    tenantId = tenant.id;
    key = (await store.apiKeys.createKey(tenant.id, { name: 'live', role: 'read' })).secret;
    app = createApp({ store, rateLimit: null, now: clock.now, connector: createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS }) });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async <T>(url: string, body: unknown): Promise<T> => {
    const res = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload: body as object });
    expect(res.statusCode).toBe(200);
    return res.json<T>();
  };
  const awarded = async (provider: 'frontcore' | 'openedx', type: string): Promise<Certificate[]> => {
    const page = await store.certificates.listCertificates(tenantId, { providers: [provider], statuses: ['awarded'], achievement_type: type as 'course' }, { limit: 1000 });
    return page.items.filter((c) => c.person_id !== null && c.subject.provider_user_id !== null);
  };

  it('FrontCore: asked per course by the user id the stored certificates give; it confirms the diploma', async () => {
    const cert = (await awarded('frontcore', 'course')).find((c) => c.valid_from !== null && c.valid_from <= clock.now().toISOString().slice(0, 10))!;
    const answer = await post<Answer>('/v1/status?live=true', {
      person: { email: cert.subject.email },
      achievements: [{ source: slugs.frontcore, type: 'course', external_id: cert.achievement.external_id }],
    });
    expect(answer.found).toBe(true);
    expect(answer.achievements[0]?.standing).toMatch(/valid|expiring/);
    const fc = answer.live?.find((l) => l.provider === 'frontcore');
    expect(fc).toMatchObject({ source: slugs.frontcore, ok: true });
    const live = fc?.answer as unknown as FrontcoreLiveAnswer;
    expect(live.asked_by).toBe('user_id');
    expect(live.checks).toHaveLength(1);
    expect(live.checks[0]).toMatchObject({ course_id: Number(cert.achievement.external_id), valid: true });
    expect(live.checks[0]?.items.map((i) => String(i.id))).toContain(cert.external_id);
    // Open edX has nothing to say about a FrontCore course: answered without asking.
    expect(answer.live?.find((l) => l.provider === 'openedx')).toMatchObject({ ok: true, answer: { status: [] } });
  }, 60_000);

  it('Open edX, bulk: learners asked in one bulk request; the earned runs reported are the ones stored', async () => {
    const certs = await awarded('openedx', 'course_run');
    const users = [...new Set(certs.map((c) => c.subject.provider_user_id!))].slice(0, 20);
    expect(users.length).toBeGreaterThan(3);
    const { results } = await post<{ results: (Answer & { index: number })[] }>('/v1/status/bulk?live=true', {
      people: users.map((u) => ({ provider_user: { source: slugs.openedx, user_id: u } })),
    });
    let earned = 0;
    results.forEach((r, k) => {
      expect(r.found).toBe(true);
      const edx = r.live?.find((l) => l.provider === 'openedx');
      expect(edx?.ok).toBe(true);
      const live = edx?.answer as unknown as OpenedxLiveAnswer;
      expect(live.username?.toLowerCase()).toBe(users[k]!.toLowerCase());
      const stored = new Set(certs.filter((c) => c.person_id === r.person_id).map((c) => c.achievement.external_id));
      for (const s of live.status) expect(stored.has(s.course_run.key)).toBe(true);
      earned += live.status.length;
    });
    expect(earned).toBeGreaterThan(0);
  }, 60_000);

  it('a stopped provider is reported in its own entry; the answer and the other provider still come', async () => {
    const cert = (await awarded('frontcore', 'course'))[0]!;
    await sandbox.simulators.find((s) => s.provider === 'openedx')!.instance.sim.close();
    const edxCert = (await awarded('openedx', 'course_run'))[0]!;
    const { results } = await post<{ results: Answer[] }>('/v1/status/bulk?live=true', {
      people: [{ email: cert.subject.email }, { provider_user: { source: slugs.openedx, user_id: edxCert.subject.provider_user_id } }],
    });
    expect(results[0]?.found).toBe(true);
    expect(results[0]?.live?.find((l) => l.provider === 'frontcore')?.ok).toBe(true);
    const down = results[1]?.live?.find((l) => l.provider === 'openedx');
    expect(down).toMatchObject({ source: slugs.openedx, ok: false, error: { code: expect.stringMatching(/provider_unavailable|provider_error/) as string } });
    expect(down?.error?.message).toMatch(new RegExp(`^${slugs.openedx}: `));
    expect(results[1]?.found).toBe(true);
  }, 90_000);
});
