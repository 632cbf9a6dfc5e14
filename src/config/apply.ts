/** certhub.yaml applied to the store: the sources it configures (and the tenants they name) created or updated. */
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
