/**
 * What the provider contract suite needs from each provider: start its simulator on a seeded world, the
 * certhub source for it, its ground truth, and a scripted set of changes (add, change, delete, revoke where
 * the provider has it). Real sockets, the real engine and a real store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyConfiguredSources } from '../config/apply.ts';
import type { Config, SourceConfig } from '../config/index.ts';
import { sourceSchema } from '../config/schema.ts';
import type { Certificate } from '../domain/certificate.ts';
import type { CounterSnapshot } from '../simulators/common/counters.ts';
import type { FaultSettings } from '../simulators/common/faults.ts';
import type { TruthCertificate } from '../simulators/common/truth.ts';
import type { SimulatedProvider, World } from '../simulators/common/world.ts';
import { createStore, type Store } from '../store/index.ts';
import { createSourceConnector } from '../providers/connector.ts';
import { runSourceSync } from '../sync/engine.ts';
import type { SyncReport } from '../sync/report.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';

export interface RunningProvider {
  source: SourceConfig;
  truth(): TruthCertificate[] | Promise<TruthCertificate[]>;
  /** Base URL of the simulator (for /__sim). */
  simUrl: string;
  /** Adds, changes, deletes (and revokes, where the provider can) a few certificates through /__sim. */
  mutate(): Promise<void>;
  /** How far certhub's clock must move for its next sync to see every change (Springest reconciles daily). */
  advanceForChangesMs?: number;
  close(): Promise<void>;
}

export interface ContractCase {
  provider: SimulatedProvider;
  /** People in the seeded world (FrontCore's 5 requests/s make big worlds slow to sync). */
  people: number;
  /**
   * Requests a sync may make when nothing changed (default 1: one page). Open edX has no changed-since filter:
   * every run fetches a token, re-reads every page and re-reads the titles those pages name (renames change
   * only the catalog, not the credential).
   */
  noChangeRequests?: number;
  /**
   * People in the world of the pacing test, when it differs from `people` (Open edX's 15 requests a minute make even
   * a small world take most of a minute to sync twice), and that test's timeout.
   */
  paced?: { people: number; timeoutMs: number };
  /**
   * Starts the simulator on the test's clock with its limits raised, and certhub's pacing with them, so that the tests
   * that are not about pacing run fast (the pacing test runs the simulator at its documented limits in a process of
   * its own: src/simulators/process/).
   */
  start(world: World, opts: { clock: () => Date }): Promise<RunningProvider>;
}

/** A certhub.yaml source entry as certhub resolves it (any registered provider). */
export function parseSource(entry: Record<string, unknown>): SourceConfig {
  return sourceSchema().parse(entry);
}

export async function simJson<T>(base: string, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${base}/__sim${path}`, init);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} /__sim${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const setFaults = (base: string, patch: Partial<FaultSettings>): Promise<unknown> => simJson(base, '/faults', { method: 'POST', body: JSON.stringify(patch) });
export const clearFaults = (base: string): Promise<unknown> => simJson(base, '/faults', { method: 'DELETE' });
export const counters = (base: string): Promise<CounterSnapshot> => simJson(base, '/counters');
export const resetCounters = (base: string): Promise<unknown> => simJson(base, '/counters/reset', { method: 'POST' });

/** A fresh SQLite store in a temp dir with `sources` applied. */
export async function openStore(sources: SourceConfig[]): Promise<{ store: Store; url: string; key: Buffer; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'certhub-contract-'));
  const url = `sqlite:${join(dir, 'certhub.db')}`;
  const key = randomBytes(32);
  const store = await createStore({ url, secretKey: key });
  await store.migrate();
  await applyConfiguredSources(store, { sources } as Config);
  return {
    store,
    url,
    key,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Syncer {
  sync(opts?: { full?: boolean }): Promise<SyncReport>;
  advance(ms: number): void;
}

/**
 * Runs the real engine with the real connector and HTTP client (shared limiter registry), on the test's clock
 * (the one its simulator runs on), moved forward by `advance`.
 */
export function createSyncer(store: Store, source: SourceConfig, clock: () => Date): Syncer {
  const connector = createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS });
  let offset = 0;
  const now = (): Date => new Date(clock().getTime() + offset);
  return {
    async sync(opts = {}) {
      const tenant = await store.tenants.getTenantBySlug(source.tenant);
      const stored = tenant === null ? null : await store.sources.getSourceBySlug(tenant.id, source.id);
      if (stored === null) throw new Error(`source ${source.id} is not in the store`);
      const session = await connector.open(stored);
      try {
        return await runSourceSync({ store, session, now, ...(opts.full === undefined ? {} : { full: opts.full }) });
      } finally {
        await session.close();
      }
    },
    advance(ms) {
      offset += ms;
    },
  };
}

type Comparable = Omit<TruthCertificate, 'person_key'>;

function comparable(c: Certificate | TruthCertificate): Comparable {
  return {
    external_id: c.external_id,
    status: c.status,
    subject: { provider_user_id: c.subject.provider_user_id, email: c.subject.email, first_name: c.subject.first_name, last_name: c.subject.last_name, date_of_birth: c.subject.date_of_birth },
    achievement: { type: c.achievement.type, external_id: c.achievement.external_id, title: c.achievement.title, code: c.achievement.code },
    issued_at: c.issued_at,
    valid_from: c.valid_from,
    valid_until: c.valid_until,
    serial: c.serial,
    file: { available: c.file.available },
  };
}

export async function storedCertificates(store: Store, sourceSlug: string, tenantSlug = 'default'): Promise<Certificate[]> {
  const tenant = await store.tenants.getTenantBySlug(tenantSlug);
  const source = tenant && (await store.sources.getSourceBySlug(tenant.id, sourceSlug));
  if (!tenant || !source) throw new Error(`no source ${sourceSlug}`);
  const out: Certificate[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Certificate[]; next_cursor: string | null } = await store.certificates.listCertificates(tenant.id, { source_ids: [source.id] }, { limit: 1000, ...(cursor === null ? {} : { cursor }) });
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return out;
}

/**
 * The store against the truth: every certificate the provider exposes is stored exactly as the truth says;
 * anything else stored for the source is marked deleted (removed at the provider); no external id twice.
 */
export async function expectStoreEqualsTruth(store: Store, running: RunningProvider, expect: (v: unknown) => { toEqual(x: unknown): void; toBe(x: unknown): void }): Promise<void> {
  const truth = await running.truth();
  const stored = await storedCertificates(store, running.source.id);
  const ids = stored.map((c) => c.external_id);
  expect(new Set(ids).size).toBe(ids.length);
  const truthIds = new Set(truth.map((t) => t.external_id));
  const live = stored.filter((c) => truthIds.has(c.external_id)).map(comparable).sort((a, b) => (a.external_id < b.external_id ? -1 : 1));
  expect(live).toEqual(truth.map(comparable));
  const extra = stored.filter((c) => !truthIds.has(c.external_id)).map((c) => `${c.external_id}:${c.status}`);
  expect(extra.filter((x) => !x.endsWith(':deleted'))).toEqual([]);
}
