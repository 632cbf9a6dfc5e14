import type { CertificateSubject } from './certificate.ts';
import type { IdentityKind } from './person.ts';

/** A key that may tie a certificate's subject to a person. Plain values: the store hashes national ids. */
export interface IdentityKey {
  kind: IdentityKind;
  value: string;
  /** Provider user ids only mean something within their source; other kinds are tenant-wide (null). */
  source_id: string | null;
}

// Deliberately loose: one @, something on each side, a dot in the domain, no whitespace.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Trimmed and lower-cased; null when empty or not shaped like an address. */
export function normalizeEmail(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const email = value.trim().toLowerCase();
  return EMAIL.test(email) ? email : null;
}

// Letters NFKD does not decompose into a base letter plus marks.
const FOLDS: Record<string, string> = { æ: 'ae', ø: 'o', ß: 'ss', œ: 'oe', đ: 'd', ð: 'd', þ: 'th', ł: 'l', ı: 'i' };
const FOLDABLE = new RegExp(`[${Object.keys(FOLDS).join('')}]`, 'g');

/**
 * For matching only, never for display: `  Bjørn  Ærø-Åsen ` -> `bjorn aero-asen`. Null when nothing is left.
 */
export function normalizeName(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const name = value
    .toLowerCase()
    .replace(FOLDABLE, (ch) => FOLDS[ch] ?? ch)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  return name === '' ? null : name;
}

/** Digits only (`010190 123-45` -> `01019012345`); null when there are none. */
export function normalizeNationalId(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const digits = value.replace(/\D/g, '');
  return digits === '' ? null : digits;
}

const K1_WEIGHTS = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

function controlDigit(digits: number[], weights: number[]): number | null {
  const sum = weights.reduce((s, w, i) => s + w * (digits[i] ?? 0), 0);
  const k = 11 - (sum % 11);
  if (k === 11) return 0;
  return k === 10 ? null : k;
}

/**
 * A Norwegian fødselsnummer (or D-number, H-number, or synthetic test number): 11 digits, a plausible
 * day and month, and both mod-11 control digits right.
 */
export function isValidNorwegianNationalId(value: string): boolean {
  if (!/^\d{11}$/.test(value)) return false;
  const digits = [...value].map(Number);
  let day = Number(value.slice(0, 2));
  let month = Number(value.slice(2, 4));
  if (day > 40) day -= 40; // D-number
  if (month > 80) month -= 80; // synthetic test number (Skatteetaten's Tenor)
  else if (month > 40) month -= 40; // H-number
  if (day < 1 || day > 31 || month < 1 || month > 12) return false;
  return controlDigit(digits, K1_WEIGHTS) === digits[9] && controlDigit(digits, K2_WEIGHTS) === digits[10];
}

/**
 * The national id to match on, or null. An 11-digit number must be a valid Norwegian one (a failed
 * checksum is a typo, and matching on a typo would merge strangers); other lengths are kept as
 * foreign ids when they have 6 to 20 digits.
 */
export function matchableNationalId(value: string | null | undefined): string | null {
  const digits = normalizeNationalId(value);
  if (digits === null) return null;
  if (digits.length === 11) return isValidNorwegianNationalId(digits) ? digits : null;
  return digits.length >= 6 && digits.length <= 20 ? digits : null;
}

/** How a provider compares its user ids (Provider.normalizeUserId): Open edX usernames are case-insensitive. */
export interface UserIdRule {
  normalizeUserId?(id: string): string;
}

/** How a provider user id is matched: trimmed, then the provider's rule. Null when empty. */
export function normalizeUserId(value: string | null | undefined, rule: UserIdRule): string | null {
  const id = value?.trim() ?? '';
  if (id === '') return null;
  return rule.normalizeUserId?.(id) ?? id;
}

/** A date of birth to match on: trimmed, `YYYY-MM-DD`; null otherwise. */
export function normalizeDateOfBirth(value: string | null | undefined): string | null {
  const dob = value?.trim() ?? '';
  return DATE.test(dob) ? dob : null;
}

/**
 * The name + date of birth key, as name_dob identities store it: `normalized full name|YYYY-MM-DD`. Null when the
 * name has no letters left or the date is not one.
 */
export function nameDobKey(fullName: string | null | undefined, dateOfBirth: string | null | undefined): string | null {
  const name = normalizeName(fullName);
  const dob = normalizeDateOfBirth(dateOfBirth);
  return name === null || dob === null ? null : `${name}|${dob}`;
}

/**
 * Every key the subject can be matched by, strongest first: national id, email, provider user id
 * (scoped to the source), then name + date of birth.
 */
export function identityKeys(subject: CertificateSubject, provider: UserIdRule, sourceId: string): IdentityKey[] {
  const keys: IdentityKey[] = [];
  const nationalId = matchableNationalId(subject.national_id);
  if (nationalId !== null) keys.push({ kind: 'national_id', value: nationalId, source_id: null });
  const email = normalizeEmail(subject.email);
  if (email !== null) keys.push({ kind: 'email', value: email, source_id: null });
  const userId = normalizeUserId(subject.provider_user_id, provider);
  if (userId !== null) keys.push({ kind: 'provider_user', value: userId, source_id: sourceId });
  const nameDob = nameDobKey([subject.first_name, subject.last_name].filter((n) => n !== null).join(' '), subject.date_of_birth);
  if (nameDob !== null) keys.push({ kind: 'name_dob', value: nameDob, source_id: null });
  return keys;
}
