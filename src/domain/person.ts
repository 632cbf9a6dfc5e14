/** A person certhub has resolved across providers, and the identities that tie certificates to them. */
export const IDENTITY_KINDS = ['email', 'national_id', 'provider_user', 'name_dob'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/** How an identity came to belong to its person: the kind of key that matched, or by hand. */
export const MATCHED_BY = [...IDENTITY_KINDS, 'manual', 'created'] as const;
export type MatchedBy = (typeof MATCHED_BY)[number];

export interface PersonIdentity {
  kind: IdentityKind;
  /** The normalized value; for national_id always masked (see maskNationalId), never the number itself. */
  value: string;
  /** Source id (slug) the identity is scoped to; null for tenant-wide identities (email, national id, name + dob). */
  source: string | null;
  matched_by: MatchedBy;
}

export interface Person {
  id: string;
  tenant: string;
  display_name: string | null;
  /** YYYY-MM-DD */
  date_of_birth: string | null;
  identities: PersonIdentity[];
}

/** `01019012345` -> `*********45`: enough to tell two numbers apart on screen, not enough to use one. */
export function maskNationalId(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length <= 4) return '*'.repeat(Math.max(digits.length, 1));
  return '*'.repeat(digits.length - 2) + digits.slice(-2);
}
