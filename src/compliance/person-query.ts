/**
 * What a status check asks: who (exactly one identification) and for what (achievements, a requirement, or all the
 * person holds). Validated here once for the API and the CLI alike.
 */
import { z } from 'zod';
import { matchableNationalId, normalizeEmail } from '../domain/identity.ts';
import { ruleSchemas, type AchievementMatcher } from '../domain/requirement.ts';
import { providerIdSchema } from '../providers/registry.ts';

/** An achievement a check asks about: its provider, if named, is one this build knows. */
const knownMatcherSchema = ruleSchemas(providerIdSchema).matcher;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

const realDate = z
  .string()
  .regex(DATE, 'must be a date YYYY-MM-DD')
  .refine((text) => {
    const d = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
  }, 'must be a real calendar day');

/** One person to check, identified by exactly one of: email, national_id, date_of_birth + name, provider_user. */
export const personQuerySchema = z
  .strictObject({
    email: z
      .string()
      .max(320)
      .refine((v) => normalizeEmail(v) !== null, 'must be an email address')
      .optional()
      .describe('Matched case-insensitively, trimmed'),
    national_id: z
      .string()
      .max(40)
      .refine((v) => matchableNationalId(v) !== null, 'must be a national identification number (11 digits with valid check digits, or 6 to 20 digits)')
      .optional()
      .describe('National identification number; matched by its HMAC, never echoed back'),
    date_of_birth: realDate.optional().describe('YYYY-MM-DD; together with name'),
    name: z.string().trim().min(1).max(300).optional().describe('Full name, with date_of_birth; matched case- and accent-insensitively'),
    provider_user: z
      .strictObject({
        source: z.string().min(1).max(100).describe('The source id (slug), e.g. frontcore-main'),
        user_id: z.string().trim().min(1).max(200).describe("The person's user id (Open edX: username) at that source"),
      })
      .optional(),
  })
  .superRefine((q, ctx) => {
    const given = [q.email, q.national_id, q.provider_user, q.date_of_birth ?? q.name].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of email, national_id, date_of_birth + name, provider_user' });
      return;
    }
    if ((q.date_of_birth === undefined) !== (q.name === undefined)) {
      ctx.addIssue({ code: 'custom', path: [q.name === undefined ? 'name' : 'date_of_birth'], message: 'date_of_birth and name go together' });
    }
  });
export type PersonQuery = z.output<typeof personQuerySchema>;

export type IdentifiedBy = 'email' | 'national_id' | 'name_dob' | 'provider_user';

export function identifiedBy(q: PersonQuery): IdentifiedBy {
  if (q.email !== undefined) return 'email';
  if (q.national_id !== undefined) return 'national_id';
  if (q.provider_user !== undefined) return 'provider_user';
  return 'name_dob';
}

/** At most this many people per bulk check (the issue: "for one person or 10,000"). */
export const MAX_BULK_PEOPLE = 10_000;

/** What the check is about, shared by the single and bulk forms. */
export const statusScopeShape = {
  achievements: z
    .array(knownMatcherSchema)
    .min(1)
    .max(50)
    .optional()
    .describe('Only these achievements (each a matcher); default: every achievement the person has certificates for'),
  requirement: z.string().min(1).max(200).optional().describe("A requirement's id or exact name: its any_of, fallback validity and warning window apply"),
  warn_days: z.number().int().min(0).max(3650).optional().describe('Days before the end at which a certificate counts as expiring (default 30; a requirement uses its own)'),
  as_of: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/, 'must be an ISO-8601 instant such as 2024-02-15T09:00:00Z')
    .refine((text) => !Number.isNaN(Date.parse(text)), 'must be a real date and time')
    .transform((text) => new Date(text).toISOString())
    .optional()
    .describe('Answer with what certhub knew at this instant (stored versions), evaluated at that instant; default now'),
};

export interface StatusScope {
  achievements?: AchievementMatcher[] | undefined;
  requirement?: string | undefined;
  warn_days?: number | undefined;
  as_of?: string | undefined;
}

/** "achievements or requirement, not both" as a zod refinement of an object holding the scope. */
export function refineScope(scope: StatusScope, ctx: z.RefinementCtx): void {
  if (scope.achievements !== undefined && scope.requirement !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['requirement'], message: 'give achievements or requirement, not both' });
  }
  if (scope.requirement !== undefined && scope.warn_days !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['warn_days'], message: 'a requirement has its own warn_days' });
  }
}
