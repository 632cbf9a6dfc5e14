/** A source's credentials (its provider's `secrets` paths): kept encrypted in the store, masked when printed. */
import { secretPathsOf } from '../providers/registry.ts';
import { isRecord, valueAt } from './problems.ts';
import type { SourceConfig } from './schema.ts';

export const MASK = '***';

/** Fields that identify the source rather than configure it; they have their own columns in the store. */
const SOURCE_IDENTITY_FIELDS = ['id', 'provider', 'tenant', 'enabled'] as const;

type Json = Record<string, unknown>;

function cloneJson<T>(value: T): T {
  return structuredClone(value);
}

/** Removes the value at `path` from `target` and returns it (undefined when absent); empty parents are dropped. */
function takePath(target: Json, path: readonly string[]): unknown {
  const [head, ...rest] = path;
  if (head === undefined || !(head in target)) return undefined;
  if (rest.length === 0) {
    const value = target[head];
    delete target[head];
    return value;
  }
  const child = target[head];
  if (!isRecord(child)) return undefined;
  const value = takePath(child, rest);
  if (Object.keys(child).length === 0) delete target[head];
  return value;
}

function putPath(target: Json, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = isRecord(target[head]) ? target[head] : {};
  target[head] = child;
  putPath(child, rest, value);
}

/**
 * A source as the store keeps it: non-secret `settings` (stored as JSON) and `credentials` (stored encrypted),
 * both keeping the YAML nesting (`oauth.client_secret` -> `credentials.oauth.client_secret`).
 */
export function splitSourceSecrets(source: SourceConfig): { settings: Json; credentials: Json | null } {
  const settings: Json = cloneJson<Json>(source);
  for (const field of SOURCE_IDENTITY_FIELDS) delete settings[field];
  const credentials: Json = {};
  for (const path of secretPathsOf(source.provider)) {
    const value = takePath(settings, path);
    if (value !== undefined) putPath(credentials, path, value);
  }
  return { settings, credentials: Object.keys(credentials).length === 0 ? null : credentials };
}

export function maskSourceSecrets(source: SourceConfig): SourceConfig {
  const masked = cloneJson(source) as unknown as Json;
  for (const path of secretPathsOf(source.provider)) {
    if (valueAt(masked, path) !== undefined) putPath(masked, path, MASK);
  }
  return masked as unknown as SourceConfig;
}

/** `postgres://user:pw@host/db` -> `postgres://user:***@host/db`. */
export function maskDatabaseUrl(url: string): string {
  if (!url.startsWith('postgres')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = MASK;
    for (const key of ['password', 'sslpassword']) if (parsed.searchParams.has(key)) parsed.searchParams.set(key, MASK);
    return parsed.toString().replace(encodeURIComponent(MASK), MASK);
  } catch {
    return '(unparseable postgres URL)';
  }
}

function mergeInto(target: Json, extra: Json): void {
  for (const [key, value] of Object.entries(extra)) {
    const current = target[key];
    if (isRecord(current) && isRecord(value)) mergeInto(current, value);
    else target[key] = cloneJson(value);
  }
}

/**
 * The inverse of splitSourceSecrets: a stored source (identity columns, settings, decrypted credentials) as the
 * resolved SourceConfig the sync engine and connectors take. Settings were validated when they were stored.
 */
export function joinSourceSecrets(
  identity: { slug: string; provider: SourceConfig['provider']; tenant: string; enabled: boolean },
  settings: Json,
  credentials: Json | null,
): SourceConfig {
  const joined: Json = cloneJson(settings);
  if (credentials !== null) mergeInto(joined, credentials);
  joined.id = identity.slug;
  joined.provider = identity.provider;
  joined.tenant = identity.tenant;
  joined.enabled = identity.enabled;
  return joined as unknown as SourceConfig;
}

/** Every path below `value` whose last key names a URL (`base_url`, `oauth.token_url`, `catalog_url`). */
function urlPaths(value: unknown, prefix: string[] = []): string[][] {
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => (isRecord(child) ? urlPaths(child, [...prefix, key]) : /url$/i.test(key) ? [[...prefix, key]] : []));
}

/**
 * The credentials a change to a stored source must carry again, as dotted paths: a source's credentials go only to
 * the URLs they were given for, so a patch that moves any of its URLs elsewhere (`base_url`, `oauth.token_url`,
 * `catalog_url`) must supply every credential the source holds, or the next request would carry the stored key, token
 * or secret to the new host. Empty when the patch moves no URL or brings them all.
 */
export function credentialsToResend(current: SourceConfig, patch: Json): string[] {
  const moved = urlPaths(patch).some((path) => valueAt(patch, path) !== valueAt(current, path));
  if (!moved) return [];
  return secretPathsOf(current.provider)
    .filter((path) => valueAt(current, path) !== undefined && valueAt(patch, path) === undefined)
    .map((path) => path.join('.'));
}
