/**
 * Sync run warnings in a real browser (Debian chromium via playwright-core): a hub on an in-memory store with a test
 * provider whose runs succeed with warnings (src/contract/warning-provider.testkit.ts, against a node:http fake), one
 * source of it synced over the API, and an older run recorded before reports had warnings. The overview, the sources
 * table, the run list and the run's page each show the warning marker with its count and the messages.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NO_FILE_MESSAGE,
  registerWarningProvider,
  startWarningPlatform,
  UNTITLED_MESSAGE,
  WARNING_PLATFORM_TOKEN,
  WARNING_PROVIDER_ID,
} from '../../src/contract/warning-provider.testkit.ts';
import { defaultWebRoot, startHub, type RunningHub } from '../../src/hub.ts';
import { createStore, DEFAULT_TENANT_SLUG, type Store } from '../../src/store/index.ts';
import { CHROMIUM, launchBrowser, newPage, screenshot, seriousViolations } from './browser.testkit.ts';
import { ALLOW_PRIVATE_EGRESS } from '../../src/providers/http/egress.ts';

const hasBrowser = existsSync(CHROMIUM) && defaultWebRoot() !== null;
if (!hasBrowser && process.env.CI === 'true') {
  throw new Error(`browser tests need ${CHROMIUM} (apt-get install chromium) and the built UI (npm run build:web)`);
}

describe.skipIf(!hasBrowser)('sync run warnings in the web UI', () => {
  let store: Store;
  let hub: RunningHub;
  let platform: Awaited<ReturnType<typeof startWarningPlatform>>;
  let browser: Browser;
  let adminKey: string;
  let runId: string;
  let oldRunId: string;

  async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const res = await fetch(`${hub.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${adminKey}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async function open(path: string): Promise<Page> {
    const { page } = await newPage(browser);
    await page.goto(`${hub.url}${path}#key=${adminKey}`);
    await page.getByRole('link', { name: 'certhub' }).waitFor();
    return page;
  }

  beforeAll(async () => {
    registerWarningProvider();
    platform = await startWarningPlatform();
    store = await createStore({ url: 'sqlite::memory:', secretKey: randomBytes(32) });
    await store.migrate();
    const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
    adminKey = (await store.apiKeys.createKey(tenant.id, { name: 'warnings', role: 'admin' })).secret;
    hub = await startHub({ store, logger: pino({ level: 'silent' }), host: '127.0.0.1', port: 0, schedule: false, rateLimit: null, outbound: ALLOW_PRIVATE_EGRESS });
    await api('/v1/sources', { method: 'POST', body: { id: 'badges', provider: WARNING_PROVIDER_ID, base_url: platform.url, token: WARNING_PLATFORM_TOKEN } });

    // A run recorded before reports had warnings: its report has no `warnings` field.
    const source = (await store.sources.getSourceBySlug(tenant.id, 'badges'))!;
    const old = await store.sync.startRun(source.id, { now: new Date('2026-01-05T08:00:00Z') });
    oldRunId = old.id;
    await store.sync.finishRun(
      old.id,
      {
        status: 'succeeded',
        report: {
          run_id: old.id,
          source: 'badges',
          provider: WARNING_PROVIDER_ID,
          status: 'succeeded',
          started_at: '2026-01-05T08:00:00.000Z',
          finished_at: '2026-01-05T08:00:02.000Z',
          duration_ms: 2000,
          pages: 1,
          certificates: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
          requests_by_endpoint: { 'GET /badges': 1 },
          throttled_429: 0,
          retries: 0,
          error: null,
        },
      },
      { now: new Date('2026-01-05T08:00:02Z') },
    );

    runId = (await api<{ run_id: string }>('/v1/sources/badges/sync', { method: 'POST', body: {} })).run_id;
    for (let i = 0; i < 200; i++) {
      const run = await api<{ status: string }>(`/v1/sync-runs/${runId}`);
      if (run.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    await store?.close();
    await platform?.close();
  });

  const untitled = `12 ${UNTITLED_MESSAGE} untitled_achievements`;
  const noFile = `3 ${NO_FILE_MESSAGE} no_file`;

  it('shows the run\'s warnings on its page, in the run list (not on the older run), on the overview and on the sources', async () => {
    const run = await open(`/sync-runs/${runId}`);
    await run.getByRole('heading', { name: 'Sync run of badges', level: 1 }).waitFor();
    await run.getByRole('heading', { name: 'Warnings', level: 2 }).waitFor();
    expect(await run.locator('.run-warnings .badge').allInnerTexts()).toEqual(['⚠ 2 warnings']);
    const items = run.locator('.run-warnings li');
    expect(await items.allTextContents()).toEqual([untitled, noFile]);
    expect(await run.getByText('The run succeeded, but could not do everything:').isVisible()).toBe(true);
    expect(await seriousViolations(run)).toEqual([]);
    await screenshot(run, 'sync-run-warnings');

    const list = await open('/sync-runs');
    await list.getByRole('heading', { name: 'Sync runs', level: 1 }).waitFor();
    const rowOf = (id: string) => list.locator('tbody tr').filter({ has: list.locator(`a[href="/sync-runs/${id}"]`) });
    await rowOf(oldRunId).waitFor();
    expect(await list.locator('tbody tr').count()).toBe(2);
    expect(await rowOf(runId).locator('.run-warnings li').allTextContents()).toEqual([untitled, noFile]);
    expect(await rowOf(runId).getByText('2 warnings').isVisible()).toBe(true);
    // The older run's report has no warnings field: no marker.
    expect(await rowOf(oldRunId).locator('.run-warnings').count()).toBe(0);
    expect(await seriousViolations(list)).toEqual([]);
    await screenshot(list, 'sync-runs-warnings');

    const overview = await open('/');
    const card = overview.getByRole('listitem').filter({ has: overview.getByRole('heading', { name: 'badges' }) });
    await card.getByText('2 warnings').waitFor();
    expect(await card.locator('.run-warnings li').allTextContents()).toEqual([untitled, noFile]);
    expect(await seriousViolations(overview)).toEqual([]);
    await screenshot(overview, 'overview-warnings');

    const sources = await open('/sources');
    const row = sources.getByRole('row').filter({ hasText: WARNING_PROVIDER_ID });
    await row.getByText('2 warnings').waitFor();
    expect(await row.locator('.run-warnings li').allTextContents()).toEqual([untitled, noFile]);
    expect(await seriousViolations(sources)).toEqual([]);
    await screenshot(sources, 'sources-warnings');
  });
});
