/**
 * Compliance with requirements and the expiring report, for every person of a tenant (no HTTP here; the API and the
 * CLI present it).
 *
 * Built for 100,000 people and 1,000,000 certificates: the certificates that can satisfy a requirement are read once
 * through the achievement index (never every certificate), grouped by person in memory, and the people are then read
 * in id order a page at a time. A person without a matching certificate costs one row of the people page.
 */
import type { Certificate, ProviderId } from '../domain/certificate.ts';
import {
  addDays,
  COMPLIANCE_STATES,
  effectiveValidUntil,
  evaluateRequirement,
  type ComplianceState,
} from '../domain/requirement.ts';
import { calendarDate } from '../domain/validity.ts';
import { decodeListCursor, encodeListCursor, type PersonName, type Requirement, type Store } from '../store/index.ts';

/** People read per query while walking the roster. */
const PEOPLE_PER_READ = 2000;
/** Certificates read per query for the expiring report (CSV reads page after page). */
const ENDING_PER_READ = 1000;

export interface PersonRef {
  id: string;
  name: string | null;
  /** The primary email (the first one recorded), or null. */
  email: string | null;
}

export interface ComplianceRow {
  person: PersonRef;
  state: ComplianceState;
  /** The last day the proving certificate counts (its valid_until, else the rule's fallback), null: no end. */
  valid_until: string | null;
  /** The certificate that decides the state; null when missing (a revoked one is not shown as proof). */
  certificate: Certificate | null;
}

export type ComplianceSummary = Record<ComplianceState, number> & { total: number };

export interface ComplianceQuery {
  /** ISO instant: the standing then, from the stored versions; default now. */
  asOf?: string;
  /** Only people in these states (the summary still counts every state). */
  states?: readonly ComplianceState[];
  /** Only people whose name or any email contains this (case-insensitive); the summary counts only them. */
  q?: string;
}

export interface CompliancePage {
  /** The instant the states are computed for. */
  at: string;
  summary: ComplianceSummary;
  items: ComplianceRow[];
  next_cursor: string | null;
}

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

export interface ComplianceService {
  /** One page of a requirement's compliance table in person-id order, with the summary of the whole table. */
  compliancePage(
    tenantId: string,
    requirement: Requirement,
    query: ComplianceQuery & { limit: number; cursor?: string | null },
  ): Promise<CompliancePage>;
  /** The whole table (after the filters), in batches in person-id order; the summary once every batch was read. */
  complianceRows(
    tenantId: string,
    requirement: Requirement,
    query: ComplianceQuery,
  ): { at: string; batches: AsyncIterable<ComplianceRow[]> };
  /** One page of the expiring report, soonest end first. */
  expiringPage(tenantId: string, query: ExpiringQuery & { limit: number; cursor?: string | null }): Promise<ExpiringPage>;
  /** The whole expiring report in batches, soonest end first. */
  expiringRows(tenantId: string, query: ExpiringQuery): { from: string; to: string; batches: AsyncIterable<ExpiringItem[]> };
}

export interface ComplianceDeps {
  store: Store;
  now: () => Date;
  /** People (and expiring certificates for CSV) read per query; default 2000 (and 1000). Tests make it small. */
  batchSize?: number;
}

interface Evaluated {
  person: PersonName;
  state: ComplianceState;
  valid_until: string | null;
  certificate: Certificate | null;
}

function emptySummary(): ComplianceSummary {
  return { compliant: 0, expiring: 0, expired: 0, missing: 0, total: 0 };
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function createComplianceService(deps: ComplianceDeps): ComplianceService {
  const { store } = deps;
  const peoplePerRead = deps.batchSize ?? PEOPLE_PER_READ;
  const endingPerRead = deps.batchSize ?? ENDING_PER_READ;

  /** Every person's standing, a page of people at a time (id order, after `after`). */
  async function* evaluateRoster(
    tenantId: string,
    requirement: Requirement,
    opts: { at: Date; asOf?: string; q?: string },
  ): AsyncGenerator<Evaluated[]> {
    const { rule } = requirement;
    const matching = await store.certificates.listCertificatesMatching(
      tenantId,
      rule.any_of,
      opts.asOf === undefined ? {} : { asOf: opts.asOf },
    );
    const byPerson = new Map<string, Certificate[]>();
    for (const cert of matching) {
      if (cert.person_id === null) continue;
      const list = byPerson.get(cert.person_id);
      if (list === undefined) byPerson.set(cert.person_id, [cert]);
      else list.push(cert);
    }
    let after: string | null = null;
    for (;;) {
      const people = await store.people.listPeopleInIdOrder(tenantId, {
        after,
        limit: peoplePerRead,
        ...(opts.q === undefined ? {} : { q: opts.q }),
        // People are not versioned; as of an instant, those created later did not exist yet.
        ...(opts.asOf === undefined ? {} : { createdBy: opts.asOf }),
      });
      if (people.length === 0) return;
      yield people.map((person) => {
        const e = evaluateRequirement(byPerson.get(person.id) ?? [], rule, { at: opts.at });
        // A revoked certificate decides "missing" but proves nothing: it is not shown as the proof.
        const proves = e.state !== 'missing';
        return {
          person,
          state: e.state,
          valid_until: proves ? e.valid_until : null,
          certificate: proves ? e.certificate : null,
        };
      });
      if (people.length < peoplePerRead) return;
      after = people[people.length - 1]!.id;
    }
  }

  async function withEmails(tenantId: string, rows: Evaluated[]): Promise<ComplianceRow[]> {
    const emails = await store.people.primaryEmails(
      tenantId,
      rows.map((r) => r.person.id),
    );
    return rows.map((r) => ({
      person: { id: r.person.id, name: r.person.display_name, email: emails.get(r.person.id) ?? null },
      state: r.state,
      valid_until: r.valid_until,
      certificate: r.certificate,
    }));
  }

  function instantOf(query: ComplianceQuery): Date {
    return query.asOf === undefined ? deps.now() : new Date(query.asOf);
  }

  function rosterOptions(query: ComplianceQuery, at: Date) {
    const q = query.q?.trim();
    return { at, ...(query.asOf === undefined ? {} : { asOf: query.asOf }), ...(q ? { q } : {}) };
  }

  const wantedStates = (query: ComplianceQuery) => new Set<ComplianceState>(query.states?.length ? query.states : COMPLIANCE_STATES);

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
    async compliancePage(tenantId, requirement, query) {
      const at = instantOf(query);
      const after = query.cursor ? (decodeListCursor('compliance', query.cursor, 1)[0] ?? null) : null;
      const states = wantedStates(query);
      const summary = emptySummary();
      const picked: Evaluated[] = [];
      let more = false;
      // The summary needs every person, so the whole roster is walked; only the page's rows are kept.
      for await (const batch of evaluateRoster(tenantId, requirement, rosterOptions(query, at))) {
        for (const row of batch) {
          summary[row.state] += 1;
          summary.total += 1;
          if (!states.has(row.state) || (after !== null && row.person.id <= after)) continue;
          if (picked.length < query.limit) picked.push(row);
          else more = true;
        }
      }
      const items = await withEmails(tenantId, picked);
      const last = picked[picked.length - 1];
      return {
        at: at.toISOString(),
        summary,
        items,
        next_cursor: more && last !== undefined ? encodeListCursor('compliance', [last.person.id]) : null,
      };
    },

    complianceRows(tenantId, requirement, query) {
      const at = instantOf(query);
      const states = wantedStates(query);
      async function* batches(): AsyncGenerator<ComplianceRow[]> {
        for await (const batch of evaluateRoster(tenantId, requirement, rosterOptions(query, at))) {
          const kept = batch.filter((r) => states.has(r.state));
          if (kept.length > 0) yield await withEmails(tenantId, kept);
        }
      }
      return { at: at.toISOString(), batches: batches() };
    },

    async expiringPage(tenantId, query) {
      const window = windowOf(query.days);
      let after: { valid_until: string; id: string } | null = null;
      if (query.cursor) {
        const [validUntil, id] = decodeListCursor('expiring', query.cursor, 2) as [string, string];
        after = { valid_until: validUntil, id };
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
          first.length > query.limit && last !== undefined ? encodeListCursor('expiring', [last.valid_until, last.cert.id]) : null,
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
