/**
 * The provider registry: provider id -> its Provider. The built-in providers are listed here, one line each; an
 * extension (or a test) adds one with registerProvider() before it builds a hub. Everything certhub knows about a
 * provider it asks the Provider found here (its settings, credentials, form, user ids, live checks): nothing else in
 * certhub names a provider.
 */
import { z } from 'zod';
import { normalizeUserId } from '../domain/identity.ts';
import { AppError } from '../errors.ts';
import { falkorProvider } from './falkor/index.ts';
import { frontcoreProvider } from './frontcore/index.ts';
import { openedxProvider } from './openedx/index.ts';
import { springestProvider } from './springest/index.ts';
import type { AnyProvider, Provider, SettingPath } from './provider.ts';

export type { AnyProvider } from './provider.ts';

const BUILT_IN = (): readonly AnyProvider[] => [frontcoreProvider, falkorProvider, openedxProvider, springestProvider] as AnyProvider[];

const PROVIDER_ID = /^[a-z][a-z0-9-]{0,31}$/;
// Filled on first use, not at import: the providers' modules import domain modules that may import this one.
let registered: Map<string, AnyProvider> | null = null;
function providers(): Map<string, AnyProvider> {
  registered ??= new Map(BUILT_IN().map((p) => [p.id, p]));
  return registered;
}
let version = 0;

/** Adds a provider to this process's registry. An id already taken, or not a-z0-9-, is an Error. */
export function registerProvider<Cfg>(provider: Provider<Cfg>): void {
  if (!PROVIDER_ID.test(provider.id)) throw new Error(`provider id "${provider.id}" must be a-z, 0-9 and - (at most 32, starting with a letter)`);
  if (providers().has(provider.id)) throw new Error(`provider ${provider.id} is registered already`);
  providers().set(provider.id, provider);
  version += 1;
}

/** Changes whenever a provider is registered: lets schemas built from the registry be cached. */
export function registryVersion(): number {
  return version;
}

/** The provider for `id`, or null when this build has none. */
export function findProvider(id: string): AnyProvider | null {
  return providers().get(id) ?? null;
}

/** The provider for `id`; AppError('invalid_config') when this build has none. */
export function getProvider(id: string): AnyProvider {
  const provider = findProvider(id);
  if (provider === null) throw new AppError('invalid_config', `no connector for provider ${id} in this build of certhub`);
  return provider;
}

/** Every provider, built-in ones first, in registration order. */
export function allProviders(): AnyProvider[] {
  return [...providers().values()];
}

export function providerIds(): string[] {
  return [...providers().keys()];
}

/** "must be one of frontcore, falkor, ...": the message for an unknown provider id. */
export function unknownProviderMessage(): string {
  return `must be one of ${providerIds().join(', ')}`;
}

/** A provider id this build knows (the API's filters and requirement rules). */
export const providerIdSchema = z.string().superRefine((id, ctx) => {
  if (!providers().has(id)) ctx.addIssue({ code: 'custom', message: unknownProviderMessage() });
});

/** The provider's credential paths; none for a provider this build does not know. */
export function secretPathsOf(providerId: string): readonly SettingPath[] {
  return findProvider(providerId)?.secrets ?? [];
}

/** A provider user id as identity matching compares it: trimmed, then the provider's rule. Null when empty. */
export function normalizeProviderUserId(providerId: string, value: string | null): string | null {
  return normalizeUserId(value, findProvider(providerId) ?? {});
}

/** The credential values of a resolved source (at its provider's secret paths), to scrub from anything said about it. */
export function sourceSecretValues(source: { provider: string; [setting: string]: unknown }): string[] {
  const values: string[] = [];
  for (const path of secretPathsOf(source.provider)) {
    let value: unknown = source;
    for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (typeof value === 'string' && value.length >= 4) values.push(value);
  }
  return values;
}
