/** certhub.yaml applied to the store: the sources it configures (and the tenants they name) created or updated. */
import { AppError, isAppError } from '../errors.ts';
import { resolvePushRule } from '../outbound/push-rules.ts';
import type { Store } from '../store/index.ts';
import { splitSourceSecrets } from './credentials.ts';
import type { Config } from './index.ts';

export interface AppliedSource {
  tenant: string;
  id: string;
  provider: string;
  enabled: boolean;
}

/** Brings the store's sources in line with certhub.yaml (creating tenants it names); the store must be migrated. */
export async function applyConfiguredSources(store: Store, config: Config): Promise<AppliedSource[]> {
  const tenantIds = new Map<string, string>();
  const applied: AppliedSource[] = [];
  for (const source of config.sources) {
    let tenantId = tenantIds.get(source.tenant);
    if (tenantId === undefined) {
      const tenant =
        (await store.tenants.getTenantBySlug(source.tenant)) ??
        (await store.tenants.createTenant({ slug: source.tenant, name: source.tenant }));
      tenantId = tenant.id;
      tenantIds.set(source.tenant, tenantId);
    }
    const { settings, credentials } = splitSourceSecrets(source);
    const stored = await store.sources.upsertSourceFromConfig(tenantId, {
      slug: source.id,
      provider: source.provider,
      settings,
      credentials,
    });
    // upsertSourceFromConfig re-enables; `enabled: false` in the file wins.
    if (!source.enabled) await store.sources.setSourceEnabled(tenantId, stored.id, false);
    applied.push({ tenant: source.tenant, id: source.id, provider: source.provider, enabled: source.enabled });
  }
  return applied;
}

export interface AppliedPushRules {
  created: string[];
  updated: string[];
  /** Rules from an earlier certhub.yaml that this one no longer has: paused, not deleted (their pushes stay). */
  paused: string[];
}

/**
 * Brings the store's push rules in line with certhub.yaml `push_rules:` (after applyConfiguredSources: they name
 * sources): each is created or updated by name. A rule the file once had and no longer has is paused. A rule that
 * cannot be carried out (an unknown source, a target that takes no pushes) is AppError('invalid_config') naming it.
 */
export async function applyConfiguredPushRules(store: Store, config: Pick<Config, 'pushRules'>, opts: { now?: Date } = {}): Promise<AppliedPushRules> {
  const out: AppliedPushRules = { created: [], updated: [], paused: [] };
  const named = new Map<string, Set<string>>();
  for (const [i, entry] of config.pushRules.entries()) {
    const tenant = await store.tenants.getTenantBySlug(entry.tenant);
    if (tenant === null) throw new AppError('invalid_config', `push_rules[${i}] (${entry.name}): no tenant ${entry.tenant}`);
    const { tenant: _t, ...body } = entry;
    let input;
    try {
      input = await resolvePushRule(store, tenant.id, body);
    } catch (err) {
      if (isAppError(err)) throw new AppError('invalid_config', `certhub.yaml push_rules[${i}]: ${err.message}`, { cause: err });
      throw err;
    }
    const names = named.get(tenant.id) ?? new Set<string>();
    named.set(tenant.id, names.add(entry.name));
    const existing = await store.pushes.getRuleByName(tenant.id, entry.name);
    if (existing === null) {
      await store.pushes.createRule(tenant.id, input, { origin: 'config', ...(opts.now === undefined ? {} : { now: opts.now }) });
      out.created.push(entry.name);
    } else {
      const before = JSON.stringify(existing);
      const after = await store.pushes.updateRule(tenant.id, existing.id, input, opts.now === undefined ? {} : { now: opts.now });
      if (JSON.stringify(after) !== before) out.updated.push(entry.name);
    }
  }
  for (const tenant of await store.tenants.listTenants()) {
    for (const rule of await store.pushes.listRules(tenant.id)) {
      if (rule.origin !== 'config' || rule.paused || named.get(tenant.id)?.has(rule.name) === true) continue;
      await store.pushes.updateRule(tenant.id, rule.id, { paused: true }, opts.now === undefined ? {} : { now: opts.now });
      out.paused.push(rule.name);
    }
  }
  return out;
}
