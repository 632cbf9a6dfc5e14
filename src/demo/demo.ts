/**
 * The one-command demo (`npm start` = `certhub demo`): the four sandbox providers, a hub on the embedded store, a
 * demo tenant with an admin key, example requirements, and a first sync of every source in the background.
 * Running it again reuses the data (same ports, same sources, the key kept in the data directory).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { sourceSchema, splitSourceSecrets } from '../config/index.ts';
import type { RequirementRule } from '../domain/requirement.ts';
import { isAppError } from '../errors.ts';
import { startHub, type RunningHub } from '../hub.ts';
import { ALLOW_PRIVATE_EGRESS } from '../providers/http/egress.ts';
import { defaultSandboxAsOf, startSandbox, type RunningSandbox } from '../simulators/sandbox.ts';
import type { Source, Store, Tenant } from '../store/index.ts';

export const DEMO_TENANT = 'demo';
export const DEMO_SEED = 'demo-7';

/** Rules a training admin would start with, on the sandbox's FrontCore course catalog. */
export const DEMO_REQUIREMENTS: Array<{ name: string; description: string; rule: RequirementRule }> = [
  {
    name: 'Safety training',
    description: 'Everyone on site: the safety course or the leadership course, renewed every two years.',
    rule: { any_of: [{ provider: 'frontcore', code: 'SAFE-101' }, { provider: 'frontcore', code: 'SAFE-201' }], valid_months_without_end: 24, warn_days: 30 },
  },
  {
    name: 'First aid',
    description: 'First aid, basic or with defibrillator, renewed every two years.',
    rule: { any_of: [{ provider: 'frontcore', code: 'FIRST-AID-1' }, { provider: 'frontcore', code: 'FIRST-AID-2' }], valid_months_without_end: 24, warn_days: 60 },
  },
  {
    name: 'Fire safety',
    description: 'Fire protection course, every three years.',
    rule: { any_of: [{ provider: 'frontcore', code: 'FIRE-201' }, { provider: 'frontcore', code: 'FIRE-301' }], valid_months_without_end: 36, warn_days: 30 },
  },
];

export interface DemoOptions {
  store: Store;
  logger: Logger;
  host: string;
  /** The hub's port (0: any free one). */
  port: number;
  /** Simulators on base+1..base+4 (0: any free ports). */
  sandboxPortBase: number;
  people: number;
  seed: string;
  /** Where the demo admin key is kept between runs (null: a new key every run). */
  keyFile: string | null;
  webRoot?: string | null;
  /** How often each demo source syncs after the first run. */
  syncEvery?: string;
}

export interface RunningDemo {
  hub: RunningHub;
  sandbox: RunningSandbox;
  tenant: Tenant;
  sources: Source[];
  adminKey: string;
  /** Opens the UI signed in: the key travels in the fragment, which browsers never send to the server. */
  signInUrl: string;
  stop(): Promise<void>;
}

async function demoKey(store: Store, tenant: Tenant, keyFile: string | null): Promise<string> {
  if (keyFile !== null && existsSync(keyFile)) {
    const kept = readFileSync(keyFile, 'utf8').trim();
    const key = await store.apiKeys.authenticate(kept);
    if (key !== null && key.tenant_id === tenant.id && key.role === 'admin') return kept;
  }
  const created = await store.apiKeys.createKey(tenant.id, { name: 'demo admin', role: 'admin' });
  if (keyFile !== null) writeFileSync(keyFile, `${created.secret}\n`, { mode: 0o600 });
  return created.secret;
}

export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const { store, logger } = opts;
  await store.migrate();
  const sandbox = await startSandbox({
    portBase: opts.sandboxPortBase,
    people: opts.people,
    seed: opts.seed,
    asOf: defaultSandboxAsOf(new Date()),
  });
  try {
    const tenant =
      (await store.tenants.getTenantBySlug(DEMO_TENANT)) ?? (await store.tenants.createTenant({ slug: DEMO_TENANT, name: 'Demo company' }));
    const sources: Source[] = [];
    for (const entry of sandbox.sources()) {
      const config = sourceSchema().parse({ ...entry, tenant: DEMO_TENANT, sync_every: opts.syncEvery ?? '15m' });
      const { settings, credentials } = splitSourceSecrets(config);
      sources.push(await store.sources.upsertSourceFromConfig(tenant.id, { slug: config.id, provider: config.provider, settings, credentials }));
    }
    const existing = new Set((await store.requirements.listRequirements(tenant.id)).map((r) => r.name));
    for (const r of DEMO_REQUIREMENTS) {
      if (!existing.has(r.name)) await store.requirements.createRequirement(tenant.id, r);
    }
    const adminKey = await demoKey(store, tenant, opts.keyFile);
    const hub = await startHub({
      store,
      logger,
      host: opts.host,
      port: opts.port,
      // The demo's platforms are simulators on 127.0.0.1.
      outbound: ALLOW_PRIVATE_EGRESS,
      ...(opts.webRoot === undefined ? {} : { webRoot: opts.webRoot }),
    });
    // The first sync, in the background: the scheduler may have started some already (then they are skipped here).
    for (const source of sources) {
      hub.launcher.start(source.id).catch((err: unknown) => {
        if (!(isAppError(err) && err.code === 'conflict')) logger.warn({ source: source.slug, err }, 'demo sync did not start');
      });
    }
    return {
      hub,
      sandbox,
      tenant,
      sources,
      adminKey,
      signInUrl: `${hub.url}/#key=${adminKey}`,
      async stop() {
        await hub.stop();
        await sandbox.close();
      },
    };
  } catch (err) {
    await sandbox.close();
    throw err;
  }
}
