/**
 * Status checks: "does this person hold a valid certificate for X?" for one person or 10,000, shared by the API and
 * the CLI. However many people are asked, the store is read in a handful of statements: one batched identity lookup
 * per identification kind (per source for provider user ids), then one listCertificatesByPeople for everyone found.
 *
 * Ambiguity: email, national id and provider user id belong to one person per tenant, but two people may share a name
 * and a birthday. When several people match, the answer says so (`ambiguous: true`, `person_ids`) and answers for
 * none of them: certificates of one would otherwise be reported as the other's.
 */
import type { Certificate } from '../domain/certificate.ts';
import { nameDobKey, normalizeEmail } from '../domain/identity.ts';
import { normalizeProviderUserId } from '../providers/registry.ts';
import type { IdentityKind } from '../domain/person.ts';
import {
  bestStanding,
  evaluateRequirement,
  type AchievementMatcher,
  type AchievementStanding,
  type ComplianceState,
} from '../domain/requirement.ts';
import { AppError } from '../errors.ts';
import type { Requirement, Source, Store } from '../store/index.ts';
import { certificatesByPerson } from './people.ts';
import { identifiedBy, type IdentifiedBy, type PersonQuery, type StatusScope } from './person-query.ts';

export const DEFAULT_WARN_DAYS = 30;

/** The achievement an answer is about: the matcher asked for, or (unrestricted) the certificates' own achievement. */
export interface AchievementRef extends Partial<Omit<AchievementMatcher, 'code'>> {
  code?: string | null;
  title?: string | null;
}

export interface AchievementAnswer {
  achievement: AchievementRef;
  standing: AchievementStanding;
  /** The last day it counts (YYYY-MM-DD), from the proving certificate; null when it has no end or nothing proves it. */
  valid_until: string | null;
  /** The certificate deciding the standing, or null when missing. */
  certificate: Certificate | null;
}

export interface RequirementAnswer {
  id: string;
  name: string;
  state: ComplianceState;
  standing: AchievementStanding;
  valid_until: string | null;
  certificate: Certificate | null;
}

export interface StatusAnswer {
  /** Somebody matches the identification (also when several do). */
  found: boolean;
  identified_by: IdentifiedBy;
  /** Several people match: nothing is answered for any of them. */
  ambiguous: boolean;
  /** The person answered for; null when not found or ambiguous. */
  person_id: string | null;
  /** Every person matching (one, several when ambiguous, none). */
  person_ids: string[];
  /** The instant the answer is for. */
  as_of: string;
  achievements: AchievementAnswer[];
  /** With a requirement: the person's standing against it (null when not found or ambiguous). */
  requirement?: RequirementAnswer | null;
}

export type StatusResult = { ok: true; answer: StatusAnswer } | { ok: false; error: { code: 'invalid_request'; message: string } };

export interface CheckStatusOptions extends StatusScope {
  /** Now (default: the clock); answers are evaluated at as_of when given, else at now. */
  now?: Date;
  /** How an entry is named in per-entry error messages (`people[3]`); default `person`. */
  where?: (index: number) => string;
}

/** What the check found for each query, beyond the answer: used by live checks. */
export interface CheckedPerson {
  query: PersonQuery;
  result: StatusResult;
  /** The person's certificates as read (empty when not found or ambiguous). */
  certificates: Certificate[];
}

/** A requirement by id or exact name within the tenant; AppError('not_found') otherwise (other tenants' too). */
export async function findRequirement(store: Store, tenantId: string, idOrName: string): Promise<Requirement> {
  const byId = await store.requirements.getRequirement(tenantId, idOrName);
  if (byId !== null) return byId;
  const name = idOrName.trim();
  const byName = (await store.requirements.listRequirements(tenantId)).find((r) => r.name === name);
  if (byName === undefined) throw new AppError('not_found', `requirement "${idOrName}" not found`);
  return byName;
}

interface Lookup {
  kind: IdentityKind;
  sourceId: string | null;
  value: string;
}

/** Every achievement the certificates are for (grouped by source, type, external id), except ones only deleted. */
function heldAchievements(certificates: readonly Certificate[]): { ref: AchievementRef; matcher: AchievementMatcher }[] {
  const groups = new Map<string, Certificate[]>();
  for (const cert of certificates) {
    const key = `${cert.source}\u0000${cert.achievement.type}\u0000${cert.achievement.external_id}`;
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [cert]);
    else list.push(cert);
  }
  const out: { ref: AchievementRef; matcher: AchievementMatcher; sortKey: string }[] = [];
  for (const [key, certs] of groups) {
    if (certs.every((c) => c.status === 'deleted')) continue;
    const latest = certs.reduce((a, b) => ((b.issued_at ?? '') > (a.issued_at ?? '') ? b : a));
    const matcher: AchievementMatcher = {
      provider: latest.provider,
      source: latest.source,
      type: latest.achievement.type,
      external_id: latest.achievement.external_id,
    };
    out.push({ ref: { ...matcher, code: latest.achievement.code, title: latest.achievement.title }, matcher, sortKey: key });
  }
  return out.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
}

/**
 * Answers every query (in order). Throws AppError('not_found') for an unknown requirement (it concerns the whole
 * check); a query naming an unknown source is answered with a per-entry error.
 */
export async function checkPeople(store: Store, tenantId: string, queries: readonly PersonQuery[], opts: CheckStatusOptions = {}): Promise<CheckedPerson[]> {
  const where = opts.where ?? (() => 'person');
  const requirement = opts.requirement === undefined ? null : await findRequirement(store, tenantId, opts.requirement);
  const at = opts.as_of === undefined ? (opts.now ?? new Date()) : new Date(opts.as_of);
  const asOf = at.toISOString();

  const sources = queries.some((q) => q.provider_user !== undefined) ? await store.sources.listSources(tenantId) : [];
  const sourceBySlug = new Map<string, Source>(sources.map((s) => [s.slug, s]));

  // What to look up for each query (null: nothing can match, e.g. a name with no letters).
  const lookups: (Lookup | { error: string } | null)[] = queries.map((q, i) => {
    if (q.email !== undefined) return { kind: 'email', sourceId: null, value: normalizeEmail(q.email) ?? q.email };
    if (q.national_id !== undefined) return { kind: 'national_id', sourceId: null, value: q.national_id };
    if (q.provider_user !== undefined) {
      const source = sourceBySlug.get(q.provider_user.source);
      if (source === undefined) return { error: `${where(i)}.provider_user.source: unknown source "${q.provider_user.source}"` };
      const value = normalizeProviderUserId(source.provider, q.provider_user.user_id);
      return value === null ? null : { kind: 'provider_user', sourceId: source.id, value };
    }
    const key = nameDobKey(q.name, q.date_of_birth);
    return key === null ? null : { kind: 'name_dob', sourceId: null, value: key };
  });

  // One batched lookup per (kind, source).
  const groups = new Map<string, { kind: IdentityKind; sourceId: string | null; values: Set<string> }>();
  for (const l of lookups) {
    if (l === null || 'error' in l) continue;
    const key = `${l.kind}|${l.sourceId ?? ''}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { kind: l.kind, sourceId: l.sourceId, values: new Set() }));
    group.values.add(l.value);
  }
  const found = new Map<string, Map<string, string[]>>();
  for (const [key, group] of groups) {
    const people = await store.people.findPeopleByIdentities(tenantId, group.kind, [...group.values], group.sourceId === null ? {} : { sourceId: group.sourceId });
    found.set(key, new Map([...people].map(([value, list]) => [value, list.map((p) => p.id)])));
  }
  const matchesOf = (l: Lookup): string[] => found.get(`${l.kind}|${l.sourceId ?? ''}`)?.get(l.value) ?? [];

  const answered = new Set<string>();
  for (const l of lookups) {
    if (l === null || 'error' in l) continue;
    const ids = matchesOf(l);
    if (ids.length === 1) answered.add(ids[0]!);
  }
  const certificates = await store.certificates.listCertificatesByPeople(
    tenantId,
    [...answered],
    opts.as_of === undefined ? { now: at } : { asOf, now: at },
  );
  const byPerson = certificatesByPerson(certificates);

  const warnDays = opts.warn_days ?? DEFAULT_WARN_DAYS;
  return queries.map((query, i): CheckedPerson => {
    const l = lookups[i] ?? null;
    if (l !== null && 'error' in l) return { query, result: { ok: false, error: { code: 'invalid_request', message: l.error } }, certificates: [] };
    const ids = l === null ? [] : matchesOf(l);
    const answer: StatusAnswer = {
      found: ids.length > 0,
      identified_by: identifiedBy(query),
      ambiguous: ids.length > 1,
      person_id: ids.length === 1 ? ids[0]! : null,
      person_ids: ids,
      as_of: asOf,
      achievements: [],
      ...(requirement === null ? {} : { requirement: null }),
    };
    if (answer.person_id === null) return { query, result: { ok: true, answer }, certificates: [] };
    const certs = byPerson.get(answer.person_id) ?? [];

    if (requirement !== null) {
      const { rule } = requirement;
      const standing = evaluateRequirement(certs, rule, { at });
      answer.requirement = {
        id: requirement.id,
        name: requirement.name,
        state: standing.state,
        standing: standing.standing,
        valid_until: standing.valid_until,
        certificate: standing.certificate,
      };
      answer.achievements = rule.any_of.map((m) => {
        const s = bestStanding(certs, [m], { at, warnDays: rule.warn_days, validMonthsWithoutEnd: rule.valid_months_without_end });
        return { achievement: { ...m }, standing: s.standing, valid_until: s.valid_until, certificate: s.certificate };
      });
    } else {
      const wanted = opts.achievements === undefined ? heldAchievements(certs) : opts.achievements.map((m) => ({ ref: { ...m }, matcher: m }));
      answer.achievements = wanted.map(({ ref, matcher }) => {
        const s = bestStanding(certs, [matcher], { at, warnDays, validMonthsWithoutEnd: null });
        return { achievement: ref, standing: s.standing, valid_until: s.valid_until, certificate: s.certificate };
      });
    }
    return { query, result: { ok: true, answer }, certificates: certs };
  });
}

/** The answers alone (see checkPeople). */
export async function checkStatus(store: Store, tenantId: string, queries: readonly PersonQuery[], opts: CheckStatusOptions = {}): Promise<StatusResult[]> {
  return (await checkPeople(store, tenantId, queries, opts)).map((c) => c.result);
}
