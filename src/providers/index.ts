/**
 * The provider registry: provider id -> its Provider. A connector joins by being imported here and listed in
 * CONNECTORS; nothing else in certhub names a provider.
 */
import type { ProviderId } from '../domain/certificate.ts';
import { AppError } from '../errors.ts';
import type { Provider } from './provider.ts';
import { falkorProvider } from './falkor/index.ts';
import { frontcoreProvider } from './frontcore/index.ts';
import { openedxProvider } from './openedx/index.ts';
import { springestProvider } from './springest/index.ts';

/** A provider of any configuration type: the engine hands it only what its own configSchema parsed. */
export type AnyProvider = Provider<unknown>;

/** One line per connector (and its import above). */
const CONNECTORS: readonly AnyProvider[] = [frontcoreProvider, falkorProvider, openedxProvider, springestProvider];

function byId(connectors: readonly AnyProvider[]): ReadonlyMap<ProviderId, AnyProvider> {
  const map = new Map<ProviderId, AnyProvider>();
  for (const connector of connectors) map.set(connector.id, connector);
  return map;
}

const REGISTRY = byId(CONNECTORS);

/** The provider for `id`, or null when this build has no connector for it yet. */
export function findProvider(id: ProviderId): AnyProvider | null {
  return REGISTRY.get(id) ?? null;
}

/** The provider for `id`; AppError('invalid_config') when this build has no connector for it. */
export function getProvider(id: ProviderId): AnyProvider {
  const provider = findProvider(id);
  if (provider === null) throw new AppError('invalid_config', `no connector for provider ${id} in this build of certhub`);
  return provider;
}

/** The ids of the providers this build can sync. */
export function availableProviders(): ProviderId[] {
  return [...REGISTRY.keys()];
}
