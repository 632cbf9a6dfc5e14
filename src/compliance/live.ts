/**
 * Live status checks (`?live=true`, `certhub status --live`): besides the stored answer, ask the providers' own status
 * endpoints about the person, through the source connector (so the calls share each account's rate limit with
 * syncs). Every enabled source whose provider has `checkStatus` (providers/<id>/status.ts) is asked.
 *
 * A provider failure never fails the check: it is reported in that source's entry. Limits, so that one API call
 * cannot hog a provider account: in bulk only the first LIVE_BULK_MAX_PEOPLE people are asked (later ones get a
 * `rate_limited` entry saying so); each provider limits what one check asks it (its `checkStatus.limits`); every
 * source's calls together are given LIVE_TIMEOUT_MS.
 */
import type { AchievementMatcher } from '../domain/requirement.ts';
import type { SourceConnector, SourceSession } from '../providers/connector.ts';
import { liveFailure, liveFailureOf, type LiveEntry } from '../providers/live.ts';
import { allProviders, findProvider } from '../providers/registry.ts';
import type { Store } from '../store/index.ts';
import type { CheckedPerson } from './status-check.ts';

export type { LiveEntry } from '../providers/live.ts';

export const LIVE_BULK_MAX_PEOPLE = 100;
export const LIVE_TIMEOUT_MS = 20_000;

/** The providers live checks ask and what one check may ask each, for the API docs. */
export function liveCheckLimits(): string {
  return allProviders()
    .flatMap((p) => (p.checkStatus === undefined ? [] : [p.checkStatus.limits]))
    .join('; ');
}

/** The providers that answer live checks, by title: `FrontCore, Open edX`. */
export function liveProviderTitles(): string {
  return allProviders()
    .filter((p) => p.checkStatus !== undefined)
    .map((p) => p.title)
    .join(', ');
}

export async function liveStatus(opts: {
  store: Store;
  connector: SourceConnector | null;
  tenantId: string;
  people: readonly CheckedPerson[];
  matchers: readonly AchievementMatcher[] | null;
}): Promise<LiveEntry[][]> {
  const { store, connector, people } = opts;
  const sources = (await store.sources.listSources(opts.tenantId)).filter((s) => s.enabled && findProvider(s.provider)?.checkStatus !== undefined);
  const out: LiveEntry[][] = people.map(() => []);
  const asked = people.map((p, i) => ({ p, i })).filter(({ p }) => p.result.ok);
  const now = asked.slice(0, LIVE_BULK_MAX_PEOPLE);
  const later = asked.slice(LIVE_BULK_MAX_PEOPLE);

  const perSource = await Promise.all(
    sources.map(async (source): Promise<LiveEntry[]> => {
      if (connector === null) {
        return now.map(() => liveFailure(source, 'provider_unavailable', `${source.slug}: live checks are not available: this hub has no provider connector`));
      }
      const signal = AbortSignal.timeout(LIVE_TIMEOUT_MS);
      let session: SourceSession;
      try {
        session = await connector.open(source, signal);
      } catch (err) {
        return now.map(() => liveFailureOf(source, err));
      }
      try {
        const catalog = opts.matchers === null ? [] : await store.achievements.listSourceCatalog(source.tenant_id, source.id);
        const people = now.map(({ p }) => p);
        const check = session.provider.checkStatus;
        if (check === undefined) return now.map(() => liveFailure(source, 'invalid_request', `${source.slug}: ${session.provider.title} answers no live checks`));
        return await check.check({ source, config: session.config, http: session.http, people, matchers: opts.matchers, catalog, signal });
      } catch (err) {
        return now.map(() => liveFailureOf(source, err));
      } finally {
        await session.close();
      }
    }),
  );
  sources.forEach((source, s) => {
    now.forEach(({ i }, k) => out[i]!.push(perSource[s]![k]!));
    for (const { i } of later) {
      out[i]!.push(liveFailure(source, 'rate_limited', `${source.slug}: not asked: live checks cover the first ${LIVE_BULK_MAX_PEOPLE} people of a bulk check`));
    }
  });
  return out;
}
