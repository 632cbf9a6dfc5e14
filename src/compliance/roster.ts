/**
 * Compliance with one requirement for every person of a tenant: a page with the summary of the whole table, or the
 * whole table in batches (for CSV).
 *
 * Built for 100,000 people and 1,000,000 certificates: the certificates that can satisfy a requirement are read once
 * through the achievement index (never every certificate), grouped by person in memory, and the people are then read
 * in id order a page at a time. A person without a matching certificate costs one row of the people page.
 */
import type { Certificate } from '../domain/certificate.ts';
import { COMPLIANCE_STATES, evaluateRequirement, type ComplianceState } from '../domain/requirement.ts';
import { decodeListCursor, encodeListCursor, type PersonName, type Requirement, type Store } from '../store/index.ts';
import { certificatesByPerson, type PersonRef } from './people.ts';

/** People read per query while walking the roster. */
const PEOPLE_PER_READ = 2000;
/** Tags the table's cursors, (person id), so another list's cursor is refused here. */
const COMPLIANCE_CURSOR = 'compliance';

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

export interface RosterCompliance {
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
}

export interface RosterDeps {
  store: Store;
  now: () => Date;
  /** People read per query; default 2000. Tests make it small. */
  peoplePerRead?: number;
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

export function createRosterCompliance(deps: RosterDeps): RosterCompliance {
  const { store } = deps;
  const peoplePerRead = deps.peoplePerRead ?? PEOPLE_PER_READ;

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
    const byPerson = certificatesByPerson(matching);
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

  return {
    async compliancePage(tenantId, requirement, query) {
      const at = instantOf(query);
      const after = query.cursor ? (decodeListCursor(COMPLIANCE_CURSOR, query.cursor, 1)[0] ?? null) : null;
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
        next_cursor: more && last !== undefined ? encodeListCursor(COMPLIANCE_CURSOR, [last.person.id]) : null,
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
  };
}
