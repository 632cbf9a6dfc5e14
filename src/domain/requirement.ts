/**
 * Requirements and the standing of a person against them: pure rules shared by status checks, compliance reports,
 * the person page and the expiring report.
 *
 * A requirement such as "Safety training: any of FrontCore course SAFE-101 or Springest certification 42, valid 24
 * months when the certificate has no end date, warn 30 days before" is a RequirementRule: `any_of` matchers, the
 * fallback validity, and the warning window.
 */
import { z } from 'zod';
import { ACHIEVEMENT_TYPES, type Certificate } from './certificate.ts';
import { calendarDate, DEFAULT_TIME_ZONE } from './validity.ts';

/**
 * The matcher and rule schemas, accepting the provider ids `providerId` accepts: requests name a provider this build
 * knows (api/schemas.ts and the status check pass the provider registry's check); a stored rule is read as it was
 * written, so the plain ones below take any provider id.
 */
export function ruleSchemas(providerId: z.ZodType<string, string>) {
  /** Which certificates count: every field given must match; at least one of external_id / code is required. */
  const matcher = z
    .strictObject({
      provider: providerId.optional().describe('Only certificates from this provider'),
      source: z.string().min(1).max(100).optional().describe('Only certificates from this source (its id/slug)'),
      type: z.enum(ACHIEVEMENT_TYPES).optional().describe('Achievement type, e.g. course or certification'),
      external_id: z.string().min(1).max(200).optional().describe("The achievement's id at the provider, e.g. 44724 or 42"),
      code: z.string().min(1).max(200).optional().describe('The achievement code, e.g. SAFE-101'),
    })
    .refine((m) => m.external_id !== undefined || m.code !== undefined, {
      message: 'give external_id or code (or both)',
    });
  const rule = z.strictObject({
    any_of: z.array(matcher).min(1).max(50).describe('A certificate for any one of these satisfies it'),
    valid_months_without_end: z
      .number()
      .int()
      .min(1)
      .max(1200)
      .nullable()
      .default(null)
      .describe('How long a certificate without an end date counts, from its start (valid_from, else issue date); null: for ever'),
    warn_days: z.number().int().min(0).max(3650).default(30).describe('Days before the end at which it counts as expiring'),
  });
  return { matcher, rule };
}

const anyProvider = ruleSchemas(z.string().min(1).max(64));
export const achievementMatcherSchema = anyProvider.matcher;
export type AchievementMatcher = z.output<typeof achievementMatcherSchema>;
export const requirementRuleSchema = anyProvider.rule;
export type RequirementRule = z.output<typeof requirementRuleSchema>;

/** A person's standing for one achievement (status checks). */
export const ACHIEVEMENT_STANDINGS = ['valid', 'expiring', 'expired', 'revoked', 'missing'] as const;
export type AchievementStanding = (typeof ACHIEVEMENT_STANDINGS)[number];

/** A person's standing against a requirement (compliance reports). */
export const COMPLIANCE_STATES = ['compliant', 'expiring', 'expired', 'missing'] as const;
export type ComplianceState = (typeof COMPLIANCE_STATES)[number];

export interface Standing {
  standing: AchievementStanding;
  /** The certificate that decides it (the best one), or null when missing. */
  certificate: Certificate | null;
  /** The last day it counts (YYYY-MM-DD, inclusive): valid_until, else start + valid_months_without_end, else null. */
  valid_until: string | null;
}

export function matches(cert: Certificate, m: AchievementMatcher): boolean {
  if (m.provider !== undefined && cert.provider !== m.provider) return false;
  if (m.source !== undefined && cert.source !== m.source) return false;
  if (m.type !== undefined && cert.achievement.type !== m.type) return false;
  if (m.external_id !== undefined && cert.achievement.external_id !== m.external_id) return false;
  if (m.code !== undefined && (cert.achievement.code ?? '').toLowerCase() !== m.code.toLowerCase()) return false;
  return true;
}

/** YYYY-MM-DD plus whole months, clamped to the month's last day (2024-01-31 + 1 month = 2024-02-29). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** The last day a certificate counts under the rule's fallback for certificates without an end date. */
export function effectiveValidUntil(cert: Certificate, validMonthsWithoutEnd: number | null, timeZone = DEFAULT_TIME_ZONE): string | null {
  if (cert.valid_until !== null) return cert.valid_until;
  if (validMonthsWithoutEnd === null) return null;
  const start = cert.valid_from ?? (cert.issued_at === null ? null : calendarDate(new Date(cert.issued_at), timeZone));
  // No start date at all: nothing to count from, so the fallback cannot end it.
  if (start === null) return null;
  return addDays(addMonths(start, validMonthsWithoutEnd), -1);
}

const RANK: Record<AchievementStanding, number> = { valid: 4, expiring: 3, expired: 2, revoked: 1, missing: 0 };

function standingOf(
  cert: Certificate,
  opts: { today: string; warnDays: number; validMonthsWithoutEnd: number | null; timeZone: string },
): { standing: AchievementStanding; valid_until: string | null } | null {
  if (cert.status === 'deleted' || cert.status === 'pending') return null;
  const until = effectiveValidUntil(cert, opts.validMonthsWithoutEnd, opts.timeZone);
  if (cert.status === 'revoked') return { standing: 'revoked', valid_until: until };
  // Not yet started: it does not count today (and is not "missing" news either; a later check will see it).
  if (cert.valid_from !== null && opts.today < cert.valid_from) return null;
  if (until !== null && opts.today > until) return { standing: 'expired', valid_until: until };
  if (until !== null && addDays(opts.today, opts.warnDays) > until) return { standing: 'expiring', valid_until: until };
  return { standing: 'valid', valid_until: until };
}

/**
 * The best standing any of `certificates` gives for the matchers at `at`: valid beats expiring beats expired beats
 * revoked; ties go to the certificate that lasts longest (then the latest issued). Pending, deleted and not yet
 * started certificates do not count.
 */
export function bestStanding(
  certificates: readonly Certificate[],
  matchers: readonly AchievementMatcher[],
  opts: { at: Date; warnDays: number; validMonthsWithoutEnd: number | null; timeZone?: string },
): Standing {
  const timeZone = opts.timeZone ?? DEFAULT_TIME_ZONE;
  const today = calendarDate(opts.at, timeZone);
  let best: Standing = { standing: 'missing', certificate: null, valid_until: null };
  for (const cert of certificates) {
    if (!matchers.some((m) => matches(cert, m))) continue;
    const s = standingOf(cert, { today, warnDays: opts.warnDays, validMonthsWithoutEnd: opts.validMonthsWithoutEnd, timeZone });
    if (s === null) continue;
    const better =
      RANK[s.standing] > RANK[best.standing] ||
      (RANK[s.standing] === RANK[best.standing] &&
        best.certificate !== null &&
        (lastsLonger(s.valid_until, best.valid_until) ||
          (s.valid_until === best.valid_until && (cert.issued_at ?? '') > (best.certificate.issued_at ?? ''))));
    if (better) best = { standing: s.standing, certificate: cert, valid_until: s.valid_until };
  }
  return best;
}

/** null (no end) lasts longest. */
function lastsLonger(a: string | null, b: string | null): boolean {
  if (a === b) return false;
  if (a === null) return true;
  if (b === null) return false;
  return a > b;
}

export function complianceState(standing: AchievementStanding): ComplianceState {
  switch (standing) {
    case 'valid':
      return 'compliant';
    case 'expiring':
      return 'expiring';
    case 'expired':
      return 'expired';
    case 'revoked':
    case 'missing':
      return 'missing';
  }
}

/** A person's standing against a requirement's rule. */
export function evaluateRequirement(
  certificates: readonly Certificate[],
  rule: RequirementRule,
  opts: { at: Date; timeZone?: string },
): Standing & { state: ComplianceState } {
  const s = bestStanding(certificates, rule.any_of, {
    at: opts.at,
    warnDays: rule.warn_days,
    validMonthsWithoutEnd: rule.valid_months_without_end,
    ...(opts.timeZone === undefined ? {} : { timeZone: opts.timeZone }),
  });
  return { ...s, state: complianceState(s.standing) };
}
