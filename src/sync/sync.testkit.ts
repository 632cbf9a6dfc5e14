/**
 * Test support: fake providers for the engine (an in-memory list paged with checkpoints), a fake HTTP client with
 * stats(), and a source set up in a store. Used by the engine tests and by the crash-test child process.
 */
import { z } from 'zod';
import type { NormalizedCertificate, ProviderId } from '../domain/certificate.ts';
import { AppError } from '../errors.ts';
import type { CatalogAchievement, Checkpoint, Provider, RunWarning } from '../providers/provider.ts';
import type { Source, Store } from '../store/index.ts';
import { sampleCertificate } from '../store/sample-certificate.testkit.ts';
import type { HttpClient, SyncSession } from './engine.ts';
import type { SourceConfig } from '../config/schema.ts';
import { createEventBus } from '../events.ts';
import { createSourceConnector, type SourceConnectorOptions } from '../providers/connector.ts';
import { createSyncLauncher, runConfiguredSource } from './launcher.ts';
import type { RequestStats, SyncReport } from './report.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';

/** A normalized certificate for tests (store/sample-certificate.testkit.ts). */
export const fakeCertificate = sampleCertificate;

export const fakeConfigSchema = z.looseObject({ id: z.string(), provider: z.string(), api_key: z.string().optional() });
export type FakeConfig = z.output<typeof fakeConfigSchema>;

export interface FakeHttp {
  /** What the engine passes to the provider as ctx.http. */
  client: HttpClient;
  count(endpoint: string, outcome?: { throttled?: boolean; retried?: boolean }): void;
  stats(): RequestStats;
}

/** Cumulative counters, like the real client's stats(). */
export function createFakeHttp(): FakeHttp {
  const stats: RequestStats = { requests_by_endpoint: {}, throttled_429: 0, retries: 0 };
  const fake = {
    count(endpoint: string, outcome?: { throttled?: boolean; retried?: boolean }) {
      stats.requests_by_endpoint[endpoint] = (stats.requests_by_endpoint[endpoint] ?? 0) + 1;
      if (outcome?.throttled === true) stats.throttled_429 += 1;
      if (outcome?.retried === true) stats.retries += 1;
    },
    stats: () => structuredClone(stats),
    close: () => Promise.resolve(),
  };
  return { ...fake, client: fake as unknown as HttpClient };
}

export interface ListProviderOptions {
  id?: ProviderId;
  completeness?: 'incremental' | 'full-scan';
  /** Read at every pull: tests change the list between runs. */
  items: () => readonly NormalizedCertificate[];
  pageSize: number;
  /** Throw when about to yield this (1-based) page, `times` times (default once). */
  failOnPage?: { page: number; times?: number; error?: () => Error };
  /** Wait before each page; `gate` lets a test hold the first page until it opens. */
  delayMs?: number;
  gate?: Promise<void>;
  catalog?: CatalogAchievement[];
  /** Full scan: answer "nothing changed since the last scan" (one empty page saying so), like Falkor's hash. */
  unchanged?: () => boolean;
  /** Incremental provider: mark this pull's pages as a full scan (Page.fullScan). */
  fullScan?: () => boolean;
  /** The warnings of each (1-based) page (Page.warnings); none when it answers undefined. */
  warnings?: (page: number) => RunWarning[] | undefined;
}

export interface ListProvider extends Provider<FakeConfig> {
  /** The checkpoint each pull was given, in order. */
  readonly checkpointsGiven: (Checkpoint | null)[];
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/** An in-memory list paged `pageSize` at a time; the checkpoint is `{ offset }` after the page. */
export function createListProvider(opts: ListProviderOptions): ListProvider {
  const checkpointsGiven: (Checkpoint | null)[] = [];
  const completeness = opts.completeness ?? 'incremental';
  let failuresLeft = opts.failOnPage?.times ?? 1;
  return {
    id: opts.id ?? 'frontcore',
    title: 'A fake list',
    settings: { api_key: z.string().optional() },
    configSchema: fakeConfigSchema,
    secrets: [['api_key']],
    form: [{ name: 'api_key', label: 'API key' }],
    completeness,
    checkpointsGiven,
    async *pull(ctx, checkpoint) {
      checkpointsGiven.push(checkpoint);
      const items = opts.items();
      let offset = typeof checkpoint?.offset === 'number' ? checkpoint.offset : 0;
      if (opts.gate !== undefined) await opts.gate;
      const fullScan = opts.fullScan?.() === true;
      // A full-scan run of an incremental provider reads from the top, whatever the checkpoint says.
      if (fullScan && completeness === 'incremental') offset = 0;
      if (opts.unchanged?.() === true) {
        yield { certificates: [], unchanged: true, checkpoint: { offset: 0 } };
        return;
      }
      while (offset < items.length) {
        const pageNo = Math.floor(offset / opts.pageSize) + 1;
        if (opts.delayMs !== undefined) await sleep(opts.delayMs, ctx.signal);
        (ctx.http as unknown as FakeHttp).count('GET /certificates');
        if (opts.failOnPage !== undefined && pageNo === opts.failOnPage.page && failuresLeft > 0) {
          failuresLeft -= 1;
          throw opts.failOnPage.error?.() ?? new AppError('provider_unavailable', `provider answered 503 on page ${pageNo}`);
        }
        const certificates = items.slice(offset, offset + opts.pageSize);
        const warnings = opts.warnings?.(pageNo);
        offset += certificates.length;
        // A full scan's last checkpoint must make the next pull begin a new scan (provider.ts).
        const last = offset >= items.length;
        yield {
          certificates: [...certificates],
          checkpoint: { offset: last && completeness === 'full-scan' ? 0 : offset },
          progress: { done: offset, total: items.length },
          ...(fullScan ? { fullScan: true } : {}),
          ...(opts.catalog === undefined || pageNo !== 1 ? {} : { achievements: opts.catalog }),
          ...(warnings === undefined ? {} : { warnings }),
        };
      }
    },
  };
}

/** A configured source as certhub.yaml resolves it: `id` is its slug. */
export interface SyncSourceInput {
  id: string;
  provider: string;
  tenant?: string;
  [setting: string]: unknown;
}

/**
 * The session the engine is given for `source` (as connector.open would open it): `input` parsed by the provider's
 * configSchema, its credentials as the secrets.
 */
export function sessionOf(input: SyncSourceInput, source: Source, provider: Provider<unknown>, http: HttpClient): SyncSession {
  const secrets = typeof input.api_key === 'string' ? [input.api_key] : [];
  return { source, provider, config: provider.configSchema.parse(input), http, secrets };
}

/** The configured source the engine is given, and the same source applied to the store. */
export async function setupSource(
  store: Store,
  input: { id?: string; provider?: ProviderId; api_key?: string } = {},
): Promise<{ input: SyncSourceInput; source: Source }> {
  const tenant = await store.tenants.getTenantBySlug('default');
  if (tenant === null) throw new Error('store not migrated');
  const slug = input.id ?? 'fake-main';
  const provider = input.provider ?? 'frontcore';
  const source = await store.sources.upsertSourceFromConfig(tenant.id, {
    slug,
    provider,
    settings: {},
    credentials: { api_key: input.api_key ?? 'test-key-123456' },
  });
  return { input: { id: slug, provider, tenant: 'default', api_key: input.api_key ?? 'test-key-123456' }, source };
}

/**
 * One run of a configured source (applied to the store) the way `certhub sync` runs it: the real connector (or the
 * fakes given) and the launcher, ending in its report.
 */
export async function syncConfigured(
  store: Store,
  source: SourceConfig,
  opts: Pick<SourceConnectorOptions, 'findProvider' | 'createHttp'> & { now?: () => Date; full?: boolean } = {},
): Promise<SyncReport> {
  const connector = createSourceConnector({
    store,
    outbound: ALLOW_PRIVATE_EGRESS,
    ...(opts.findProvider === undefined ? {} : { findProvider: opts.findProvider }),
    ...(opts.createHttp === undefined ? {} : { createHttp: opts.createHttp }),
  });
  const launcher = createSyncLauncher({ store, connector, events: createEventBus(), ...(opts.now === undefined ? {} : { now: opts.now }) });
  try {
    return await runConfiguredSource(launcher, store, source, opts.full === undefined ? {} : { full: opts.full });
  } finally {
    await launcher.stop();
  }
}
