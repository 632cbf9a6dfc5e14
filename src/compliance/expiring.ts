/**
 * The expiring report: the certificates whose last valid day falls within the next N days, soonest end first, as a
 * page or the whole report in batches (for CSV). With a requirement, its fallback validity gives an end to those
 * without valid_until.
 */
import type { Certificate, ProviderId } from '../domain/certificate.ts';
import { addDays, effectiveValidUntil } from '../domain/requirement.ts';
import { calendarDate } from '../domain/validity.ts';
import { decodeKeyCursor, encodeKeyCursor, type Requirement, type Store } from '../store/index.ts';
import type { PersonRef } from './people.ts';

/** Certificates read per query for the whole report (CSV reads page after page). */
const ENDING_PER_READ = 1000;
/** Tags the report's cursors, (valid_until, certificate id), so another list's cursor is refused here. */
const EXPIRING_CURSOR = 'expiring';

export interface ExpiringQuery {
  /** Ending within this many days from today (today counts as day 0). */
  days: number;
  /** Only certificates that satisfy this requirement, and its fallback end for those without valid_until. */
  requirement?: Requirement;
  /** A source id (slug). */
  source?: string;
  provider?: ProviderId;
}

export interface ExpiringItem {
  /** The last day it counts (inclusive). */
  valid_until: string;
  /** Whole days from today to valid_until (0: ends today). */
  days_left: number;
  /** Null when the certificate is not linked to a person. */
  person: PersonRef | null;
  certificate: Certificate;
}

export interface ExpiringPage {
  /** Today, as the window starts (YYYY-MM-DD). */
  from: string;
  /** The window's last day. */
  to: string;
  items: ExpiringItem[];
  next_cursor: string | null;
}

export interface ExpiringReport {
  /** One page of the expiring report, soonest end first. */
  expiringPage(tenantId: string, query: ExpiringQuery & { limit: number; cursor?: string | null }): Promise<ExpiringPage>;
  /** The whole expiring report in batches, soonest end first. */
  expiringRows(tenantId: string, query: ExpiringQuery): { from: string; to: string; batches: AsyncIterable<ExpiringItem[]> };
}

export interface ExpiringDeps {
  store: Store;
  now: () => Date;
  /** Certificates read per query for the whole report; default 1000. Tests make it small. */
  endingPerRead?: number;
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function createExpiringReport(deps: ExpiringDeps): ExpiringReport {
  const { store } = deps;
  const endingPerRead = deps.endingPerRead ?? ENDING_PER_READ;

  /** The expiring certificates in (valid_until, id) order, a batch at a time, after `after`. */
  async function* expiringBatches(
    tenantId: string,
    query: ExpiringQuery,
    window: { from: string; to: string },
    after: { valid_until: string; id: string } | null,
    batch: { size: number; whole: boolean },
  ): AsyncGenerator<{ cert: Certificate; valid_until: string }[]> {
    const now = deps.now();
    const batchSize = batch.size;
    const { requirement } = query;
    if (requirement === undefined) {
      const filter = {
        from: window.from,
        to: window.to,
        started_by: window.from,
        ...(query.source === undefined ? {} : { source: query.source }),
        ...(query.provider === undefined ? {} : { provider: query.provider }),
      };
      if (!batch.whole) {
        const certs = await store.certificates.listCertificatesEnding(tenantId, filter, { limit: batchSize, after }, { now });
        yield certs.map((cert) => ({ cert, valid_until: cert.valid_until! }));
        return;
      }
      // The whole report: one read for the order (no index covers valid_until), then the certificates by id.
      const keys = await store.certificates.listCertificateKeysEnding(tenantId, filter);
      for (let i = 0; i < keys.length; i += batchSize) {
        const part = keys.slice(i, i + batchSize);
        const byId = new Map((await store.certificates.listCertificatesByIds(tenantId, part.map((k) => k.id), { now })).map((c) => [c.id, c]));
        yield part.flatMap((k) => {
          const cert = byId.get(k.id);
          // Deleted between the two reads: left out.
          return cert === undefined || cert.valid_until === null ? [] : [{ cert, valid_until: cert.valid_until }];
        });
      }
      return;
    }
    // For a requirement the end may come from its fallback, which no column holds: computed here, then sorted.
    const months = requirement.rule.valid_months_without_end;
    const ending: { cert: Certificate; valid_until: string }[] = [];
    for (const cert of await store.certificates.listCertificatesMatching(tenantId, requirement.rule.any_of, { now })) {
      if (cert.status !== 'awarded') continue;
      if (cert.valid_from !== null && cert.valid_from > window.from) continue;
      if (query.source !== undefined && cert.source !== query.source) continue;
      if (query.provider !== undefined && cert.provider !== query.provider) continue;
      const until = effectiveValidUntil(cert, months);
      if (until === null || until < window.from || until > window.to) continue;
      if (after !== null && (until < after.valid_until || (until === after.valid_until && cert.id <= after.id))) continue;
      ending.push({ cert, valid_until: until });
    }
    ending.sort((x, y) =>
      x.valid_until !== y.valid_until ? (x.valid_until < y.valid_until ? -1 : 1) : x.cert.id < y.cert.id ? -1 : x.cert.id > y.cert.id ? 1 : 0,
    );
    for (let i = 0; i < ending.length; i += batchSize) yield ending.slice(i, i + batchSize);
  }

  async function expiringItems(
    tenantId: string,
    window: { from: string },
    batch: { cert: Certificate; valid_until: string }[],
  ): Promise<ExpiringItem[]> {
    const personIds = [...new Set(batch.flatMap((e) => (e.cert.person_id === null ? [] : [e.cert.person_id])))];
    const [names, emails] = await Promise.all([
      store.people.listPeopleNames(tenantId, personIds),
      store.people.primaryEmails(tenantId, personIds),
    ]);
    const nameOf = new Map(names.map((p) => [p.id, p.display_name]));
    return batch.map(({ cert, valid_until }) => {
      const personId = cert.person_id;
      return {
        valid_until,
        days_left: daysBetween(window.from, valid_until),
        person: personId === null ? null : { id: personId, name: nameOf.get(personId) ?? null, email: emails.get(personId) ?? null },
        certificate: cert,
      };
    });
  }

  function windowOf(days: number): { from: string; to: string } {
    const from = calendarDate(deps.now());
    return { from, to: addDays(from, days) };
  }

  return {
    async expiringPage(tenantId, query) {
      const window = windowOf(query.days);
      let after: { valid_until: string; id: string } | null = null;
      if (query.cursor) {
        const { key, id } = decodeKeyCursor(EXPIRING_CURSOR, query.cursor);
        after = { valid_until: key, id };
      }
      // One more than the page tells whether there is a next page.
      let first: { cert: Certificate; valid_until: string }[] = [];
      for await (const batch of expiringBatches(tenantId, query, window, after, { size: query.limit + 1, whole: false })) {
        first = batch;
        break;
      }
      const page = first.slice(0, query.limit);
      const last = page[page.length - 1];
      return {
        ...window,
        items: await expiringItems(tenantId, window, page),
        next_cursor:
          first.length > query.limit && last !== undefined ? encodeKeyCursor(EXPIRING_CURSOR, { key: last.valid_until, id: last.cert.id }) : null,
      };
    },

    expiringRows(tenantId, query) {
      const window = windowOf(query.days);
      async function* batches(): AsyncGenerator<ExpiringItem[]> {
        for await (const batch of expiringBatches(tenantId, query, window, null, { size: endingPerRead, whole: true })) {
          yield await expiringItems(tenantId, window, batch);
        }
      }
      return { ...window, batches: batches() };
    },
  };
}
