/**
 * The person page: who the person is, the identities that tie certificates to them, every certificate from every
 * provider as a timeline, their standing against each of the tenant's requirements, and the merges that shaped them.
 * National ids appear only as `has_national_id` and as a `national_id` identity without a value.
 */
import { z } from 'zod';
import type { Certificate } from '../../domain/certificate.ts';
import { IDENTITY_KINDS, MATCHED_BY } from '../../domain/person.ts';
import { COMPLIANCE_STATES, evaluateRequirement } from '../../domain/requirement.ts';
import { AppError } from '../../errors.ts';
import type { PersonMerge, PersonSummary, Store } from '../../store/index.ts';
import { certificateSchema } from '../schemas.ts';

export const personSummarySchema = z.object({
  id: z.string(),
  display_name: z.string().nullable(),
  date_of_birth: z.string().nullable().describe('YYYY-MM-DD'),
  emails: z.array(z.string()),
  has_national_id: z.boolean().describe('Whether certhub knows a national id for the person (never the number)'),
  certificate_count: z.number().int(),
  merged_into: z.string().nullable().describe('Set while this person is merged into that person'),
  created_at: z.string(),
});
export type PersonSummaryBody = z.output<typeof personSummarySchema>;

export function toPersonSummary(p: PersonSummary): PersonSummaryBody {
  return {
    id: p.id,
    display_name: p.display_name,
    date_of_birth: p.date_of_birth,
    emails: p.emails,
    has_national_id: p.has_national_id,
    certificate_count: p.certificate_count,
    merged_into: p.merged_into,
    created_at: p.created_at,
  };
}

export const mergeSchema = z.object({
  id: z.string(),
  into_person_id: z.string().describe('The person that remains'),
  from_person_id: z.string().describe('The person merged away'),
  moved: z
    .object({
      identities: z.number().int().describe("The merged-away person's identities (including ones the survivor already had)"),
      certificates: z.number().int(),
    })
    .describe('What the merge moved'),
  created_at: z.string(),
  undone_at: z.string().nullable(),
});

export function toMergeBody(m: PersonMerge): z.output<typeof mergeSchema> {
  return {
    id: m.id,
    into_person_id: m.into_person_id,
    from_person_id: m.from_person_id,
    moved: { identities: m.moved.identity_ids.length + m.moved.dropped_identities.length, certificates: m.moved.certificate_ids.length },
    created_at: m.created_at,
    undone_at: m.undone_at,
  };
}

export const personPageSchema = z.object({
  id: z.string(),
  display_name: z.string().nullable(),
  date_of_birth: z.string().nullable(),
  has_national_id: z.boolean(),
  merged_into: z.string().nullable().describe('Set while this person is merged into that person (this page then has no identities or certificates)'),
  created_at: z.string(),
  updated_at: z.string(),
  identities: z.array(
    z.object({
      kind: z.enum(IDENTITY_KINDS),
      value: z.string().nullable().describe('Normalized; always null for national_id'),
      source: z.string().nullable().describe('The source (slug) a provider user id belongs to; null for tenant-wide kinds'),
      matched_by: z.enum(MATCHED_BY),
      created_at: z.string(),
    }),
  ),
  certificates: z.array(certificateSchema).describe('From every provider, by issue date (undated last)'),
  compliance: z
    .array(
      z.object({
        requirement_id: z.string(),
        requirement_name: z.string(),
        state: z.enum(COMPLIANCE_STATES),
        valid_until: z.string().nullable().describe('Last day it counts (YYYY-MM-DD); null: no end, or missing'),
        certificate_id: z.string().nullable().describe('The certificate that decides it'),
      }),
    )
    .describe("The person's standing against each requirement of the tenant, at as_of or now"),
  merges: z.array(mergeSchema).describe('Merges standing now that this person is either side of'),
  as_of: z.string().nullable(),
});
export type PersonPage = z.output<typeof personPageSchema>;

/** Timeline order: by issued_at, undated ones last, then by id so equal dates stay put. */
function byIssueDate(a: Certificate, b: Certificate): number {
  if (a.issued_at !== b.issued_at) {
    if (a.issued_at === null) return 1;
    if (b.issued_at === null) return -1;
    return a.issued_at < b.issued_at ? -1 : 1;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** AppError('not_found') when the tenant has no such person (merged-away people answer, with merged_into). */
export async function buildPersonPage(
  store: Store,
  tenantId: string,
  personId: string,
  opts: { now: Date; asOf?: string },
): Promise<PersonPage> {
  const person = await store.people.getPerson(tenantId, personId);
  if (person === null) throw new AppError('not_found', `person ${personId} not found`);
  const at = opts.asOf === undefined ? opts.now : new Date(opts.asOf);
  const [identities, sources, certificates, requirements, merges] = await Promise.all([
    store.people.listIdentities(tenantId, person.id),
    store.sources.listSources(tenantId),
    store.certificates.listCertificatesByPeople(tenantId, [person.id], opts.asOf === undefined ? { now: at } : { asOf: opts.asOf }),
    store.requirements.listRequirements(tenantId),
    store.merges.listStandingMerges(tenantId, person.id),
  ]);
  const slugs = new Map(sources.map((s) => [s.id, s.slug]));
  certificates.sort(byIssueDate);
  return {
    id: person.id,
    display_name: person.display_name,
    date_of_birth: person.date_of_birth,
    has_national_id: person.has_national_id,
    merged_into: person.merged_into,
    created_at: person.created_at,
    updated_at: person.updated_at,
    identities: identities.map((i) => ({
      kind: i.kind,
      value: i.kind === 'national_id' ? null : i.value,
      source: i.source_id === null ? null : (slugs.get(i.source_id) ?? null),
      matched_by: i.matched_by,
      created_at: i.created_at,
    })),
    certificates,
    compliance: requirements.map((r) => {
      const standing = evaluateRequirement(certificates, r.rule, { at });
      return {
        requirement_id: r.id,
        requirement_name: r.name,
        state: standing.state,
        valid_until: standing.valid_until,
        certificate_id: standing.certificate?.id ?? null,
      };
    }),
    merges: merges.map(toMergeBody),
    as_of: opts.asOf ?? null,
  };
}
