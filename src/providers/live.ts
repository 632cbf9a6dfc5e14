/**
 * The live-check seam (`?live=true`, `certhub status --live`): a provider with its own status endpoint implements
 * `Provider.checkStatus`, and compliance/live.ts asks every such source of the tenant about the checked people through
 * the source's session (so the calls share each account's rate limit with syncs). What is shared by the providers'
 * halves (which achievements a check is about, a failed entry) lives here.
 */
import type { Certificate, ProviderId } from '../domain/certificate.ts';
import type { AchievementMatcher } from '../domain/requirement.ts';
import { describeError, isAppError, type ErrorCode } from '../errors.ts';
import type { ProviderHttpClient } from './http/client.ts';

/** Who a live check is about: how they were asked for, and the certificates certhub holds for them. */
export interface LivePerson {
  query: {
    national_id?: string | undefined;
    provider_user?: { source: string; user_id: string } | undefined;
    date_of_birth?: string | undefined;
    name?: string | undefined;
  };
  certificates: readonly Certificate[];
}

/** A stored source as a live check sees it. */
export interface LiveSource {
  id: string;
  slug: string;
  provider: ProviderId;
}

/** An achievement of the source's catalog. */
export interface CatalogRow {
  type: string;
  external_id: string;
  code: string | null;
}

/** One source's answer about one person. `answer` is the provider's own (documented in its status.ts). */
export interface LiveEntry {
  source: string;
  provider: ProviderId;
  ok: boolean;
  answer?: Record<string, unknown>;
  error?: { code: ErrorCode; message: string };
}

export interface LiveCheckContext<Cfg> {
  source: LiveSource;
  config: Cfg;
  http: ProviderHttpClient;
  people: readonly LivePerson[];
  /** The achievements the check is about, or null for all the person holds. */
  matchers: readonly AchievementMatcher[] | null;
  /** The source's catalog (empty when `matchers` is null). */
  catalog: readonly CatalogRow[];
  signal: AbortSignal;
}

export interface LiveCheck<Cfg> {
  /** What one check may ask this provider, for the API docs: "FrontCore at most 50 requests per check". */
  limits: string;
  /** One entry per person, in order. A failure is reported in the person's entry, never thrown. */
  check(ctx: LiveCheckContext<Cfg>): Promise<LiveEntry[]>;
}

export function liveFailure(source: LiveSource, code: ErrorCode, message: string): LiveEntry {
  return { source: source.slug, provider: source.provider, ok: false, error: { code, message } };
}

export function liveFailureOf(source: LiveSource, err: unknown): LiveEntry {
  const code: ErrorCode = isAppError(err) ? err.code : 'provider_unavailable';
  return liveFailure(source, code, `${source.slug}: ${describeError(err)}`);
}

export function liveAnswer(source: LiveSource, answer: object): LiveEntry {
  return { source: source.slug, provider: source.provider, ok: true, answer: answer as Record<string, unknown> };
}

/** Whether a matcher can name an achievement of this source of this type. */
function appliesTo(m: AchievementMatcher, source: LiveSource, type: string): boolean {
  return (m.provider === undefined || m.provider === source.provider) && (m.source === undefined || m.source === source.slug) && (m.type === undefined || m.type === type);
}

/** The external ids of `type` the check is about at this source: from the matchers, else from the person's certificates. */
export function achievementIds(
  source: LiveSource,
  type: string,
  matchers: readonly AchievementMatcher[] | null,
  certs: readonly Certificate[],
  catalog: readonly CatalogRow[],
): string[] {
  const ids = new Set<string>();
  if (matchers === null) {
    for (const c of certs) if (c.source === source.slug && c.achievement.type === type && c.status !== 'deleted') ids.add(c.achievement.external_id);
  } else {
    for (const m of matchers) {
      if (!appliesTo(m, source, type)) continue;
      for (const row of catalog) {
        if (row.type !== type) continue;
        if (m.external_id !== undefined && row.external_id !== m.external_id) continue;
        if (m.code !== undefined && (row.code ?? '').toLowerCase() !== m.code.toLowerCase()) continue;
        ids.add(row.external_id);
      }
      // Not (yet) in the catalog: the id as given still names it.
      if (m.external_id !== undefined && m.code === undefined) ids.add(m.external_id);
    }
  }
  return [...ids];
}

/** The person's user ids at this source, as their stored certificates give them. */
export function userIdsAt(source: LiveSource, certs: readonly Certificate[]): string[] {
  const ids = new Set<string>();
  for (const c of certs) if (c.source === source.slug && c.subject.provider_user_id !== null) ids.add(c.subject.provider_user_id);
  return [...ids];
}
