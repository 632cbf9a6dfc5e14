/**
 * The sources API over a real socket against a real provider simulator (Falkor): a source created over HTTP, synced
 * by POST /v1/sources/{id}/sync or by the store-driven scheduler, its run report, and the events on GET /v1/events.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../../events.ts';
import { generateWorld } from '../../simulators/common/world.ts';
import { createFalkorSimulator, type FalkorSimulator } from '../../simulators/falkor/index.ts';
import { createSourceConnector } from '../../providers/connector.ts';
import { createStore } from '../../store/index.ts';
import { findProvider } from '../../providers/registry.ts';
import { createSyncLauncher, type BackgroundSyncLauncher } from '../../sync/launcher.ts';
import { startStoredScheduler, type StoredSyncScheduler } from '../../sync/stored-scheduler.ts';
import type { SyncLauncher } from '../deps.ts';
import { createTestHub, type TestHub } from '../app.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../../providers/http/egress.ts';

let falkor: FalkorSimulator;
let falkorSource: { id: string; provider: string; base_url: string; token: string };
beforeAll(async () => {
  falkor = createFalkorSimulator({ world: generateWorld({ seed: 'sources-api', people: 30, asOf: '2024-06-01' }) });
  await falkor.sim.listen(0, '127.0.0.1');
  falkorSource = falkor.sourceConfigs()[0] as typeof falkorSource;
});
afterAll(() => falkor.sim.close());

interface LiveHub extends TestHub {
  launcher: BackgroundSyncLauncher;
  scheduler: StoredSyncScheduler | null;
  url: string;
}

let hub: LiveHub | undefined;
afterEach(async () => {
  await hub?.scheduler?.stop();
  await hub?.launcher.stop();
  await hub?.close();
  hub = undefined;
});

async function createLiveHub(opts: { scheduler: boolean }): Promise<LiveHub> {
  const store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
  await store.migrate();
  const events = createEventBus();
  const connector = createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS });
  const launcher = createSyncLauncher({ store, connector, events });
  let scheduler: StoredSyncScheduler | null = null;
  const sync: SyncLauncher = {
    start: (id, o) => launcher.start(id, o),
    nextSyncAt: (id) => scheduler?.nextSyncAt(id) ?? null,
    sourcesChanged: () => void scheduler?.refresh(),
  };
  const test = await createTestHub({ store, events, connector, sync });
  // The test hub's own sources point at nothing; only the ones these tests create should sync.
  await store.sources.setSourceEnabled(test.a.source.tenant_id, test.a.source.id, false);
  await store.sources.setSourceEnabled(test.b.source.tenant_id, test.b.source.id, false);
  if (opts.scheduler) scheduler = startStoredScheduler({ store, launcher, hasConnector: (p) => findProvider(p) !== null });
  const url = await test.app.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(test, { launcher, scheduler, url });
}

/** Reads a text/event-stream response into `text` as it arrives. */
function readStream(res: Response): { text: () => string; ended: Promise<void> } {
  let text = '';
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (done) return;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { text: () => text, ended };
}

async function until<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseEvents(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      return event === undefined || data === undefined ? null : { event, data: JSON.parse(data) as Record<string, unknown> };
    })
    .filter((e) => e !== null);
}

describe('sources API, live', () => {
  it('creates a source over HTTP, syncs it against the simulator, reports the run, and streams the events to its tenant only', async () => {
    const h = (hub = await createLiveHub({ scheduler: false }));
    const auth = (key: string) => ({ authorization: `Bearer ${key}` });

    expect((await fetch(`${h.url}/v1/events`)).status).toBe(401);
    const aRes = await fetch(`${h.url}/v1/events`, { headers: auth(h.a.readKey) });
    expect(aRes.status).toBe(200);
    expect(aRes.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const aStream = readStream(aRes);
    const bStream = readStream(await fetch(`${h.url}/v1/events`, { headers: auth(h.b.readKey) }));
    await until(() => Promise.resolve(h.events.listenerCount() === 2), 'both streams subscribed');

    const post = (path: string, body?: unknown) =>
      fetch(`${h.url}${path}`, {
        method: 'POST',
        headers: { ...auth(h.a.adminKey), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const created = await post('/v1/sources', falkorSource);
    expect(created.status).toBe(201);
    const createdText = await created.text();
    expect(createdText).not.toContain(falkorSource.token);

    const tested = await post(`/v1/sources/${falkorSource.id}/test`);
    expect(await tested.json()).toMatchObject({ ok: true, certificates: expect.any(Number) });

    const started = await post(`/v1/sources/${falkorSource.id}/sync`);
    expect(started.status).toBe(202);
    const { run_id } = (await started.json()) as { run_id: string };
    const run = await until(async () => {
      const res = await fetch(`${h.url}/v1/sync-runs/${run_id}`, { headers: auth(h.a.readKey) });
      const body = (await res.json()) as { status: string };
      return body.status === 'running' ? null : body;
    }, 'the run to finish');
    const truth = falkor.truthFor('acme');
    expect(truth.length).toBeGreaterThan(0);
    expect(run).toMatchObject({
      id: run_id,
      source: falkorSource.id,
      provider: 'falkor',
      status: 'succeeded',
      certificates: { created: truth.length, updated: 0, deleted: 0 },
      requests_by_endpoint: { 'POST /v1/logs/story-certificates': 1 },
      throttled_429: 0,
      error: null,
    });

    const events = await until(() => {
      const seen = parseEvents(aStream.text());
      return Promise.resolve(seen.some((e) => e.event === 'sync.finished') ? seen : null);
    }, 'sync.finished on the stream');
    expect(events.map((e) => e.event)).toEqual(['sync.started', 'sync.progress', 'certificates.changed', 'sync.finished']);
    for (const e of events) {
      expect(e.data.type).toBe(e.event);
      expect(e.data.source).toBe(falkorSource.id);
    }
    expect(events[2]!.data).toMatchObject({ created: truth.length, updated: 0, deleted: 0 });
    expect(events[3]!.data).toMatchObject({ run_id, status: 'succeeded', error: null });
    expect(parseEvents(bStream.text())).toEqual([]);
    expect(aStream.text()).not.toContain(falkorSource.token);

    // Closing the app ends the open streams instead of waiting for the clients (who never leave: waiting would hang).
    await h.app.close();
    await Promise.all([aStream.ended, bStream.ended]);
    expect(h.events.listenerCount()).toBe(0);
  });

  it('unsubscribes a stream when its client goes away', async () => {
    const h = (hub = await createLiveHub({ scheduler: false }));
    const controller = new AbortController();
    const res = await fetch(`${h.url}/v1/events`, { headers: { authorization: `Bearer ${h.a.readKey}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    await until(() => Promise.resolve(h.events.listenerCount() === 1), 'subscribed');
    controller.abort();
    await until(() => Promise.resolve(h.events.listenerCount() === 0), 'unsubscribed after the client left');
  });

  it('the store-driven scheduler syncs a source created through the API without being asked, and says when it syncs next', async () => {
    const h = (hub = await createLiveHub({ scheduler: true }));
    const res = await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: { ...falkorSource, sync_every: '1h' } });
    expect(res.statusCode).toBe(201);
    const run = await until(async () => {
      const list = (await h.call('GET', `/v1/sync-runs?source=${falkorSource.id}&status=succeeded`, { key: h.a.readKey })).json<{
        items: { id: string; started_at: string; certificates: { created: number } }[];
      }>();
      return list.items[0];
    }, 'a scheduled run');
    expect(run.certificates.created).toBe(falkor.truthFor('acme').length);
    const view = await until(async () => {
      const source = (await h.call('GET', `/v1/sources/${falkorSource.id}`, { key: h.a.readKey })).json<{ next_sync_at: string | null }>();
      return source.next_sync_at === null ? null : source;
    }, 'the next sync to be known');
    const next = Date.parse(view.next_sync_at!) - Date.parse(run.started_at);
    expect(next).toBeGreaterThanOrEqual(0.9 * 3_600_000);
    expect(next).toBeLessThanOrEqual(1.1 * 3_600_000 + 1000);
    // Only that source ran: the disabled ones were not scheduled.
    expect((await h.store.sync.listRuns()).map((r) => r.source_id)).toEqual([(await h.store.sources.getSourceBySlug(h.a.id, falkorSource.id))!.id]);
  });

  it('a PATCH that moves a URL without the credentials is refused, so the stored token never goes to the new host', async () => {
    const h = (hub = await createLiveHub({ scheduler: false }));
    // A listener that must receive no credentials: it records whatever reaches it.
    const seen: string[] = [];
    const listener = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.setHeader('content-type', 'application/json');
      res.end('{"hash":"x","certificates":[]}');
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const elsewhere = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/api`;
      expect((await h.call('POST', '/v1/sources', { key: h.a.adminKey, body: falkorSource })).statusCode).toBe(201);
      const moved = await h.call('PATCH', `/v1/sources/${falkorSource.id}`, { key: h.a.adminKey, body: { base_url: elsewhere } });
      expect(moved.statusCode).toBe(400);
      expect(moved.json().error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('body.token') as string });
      const stored = (await h.call('GET', `/v1/sources/${falkorSource.id}`, { key: h.a.readKey })).json<{ settings: { base_url: string } }>();
      expect(stored.settings.base_url).toBe(falkorSource.base_url);
      // The connection test still goes where the token belongs.
      expect((await h.call('POST', `/v1/sources/${falkorSource.id}/test`, { key: h.a.adminKey })).json()).toMatchObject({ ok: true });
      expect(seen).toEqual([]);
      // With its own credentials the source may move; only those reach the new host.
      const withToken = await h.call('PATCH', `/v1/sources/${falkorSource.id}`, { key: h.a.adminKey, body: { base_url: elsewhere, token: 'dGVzdDpuZXctdG9rZW4=' } });
      expect(withToken.statusCode).toBe(200);
      await h.call('POST', `/v1/sources/${falkorSource.id}/test`, { key: h.a.adminKey });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.join('\n')).not.toContain(falkorSource.token);
      expect(seen.join('\n')).toContain('dGVzdDpuZXctdG9rZW4=');
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });
});
