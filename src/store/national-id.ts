import { normalizeNationalId as digitsOf } from '../domain/identity.ts';
import type { SecretBox, SecretPlace } from '../secrets.ts';

/** The domain's normalization (digits only), so `010190 123-45` and `01019012345` share one HMAC. */
export function normalizeNationalId(value: string): string {
  return digitsOf(value) ?? value.trim();
}

/** What the store keeps instead of a national id: an HMAC for lookups and a ciphertext for the rare read-back. */
export function protectNationalId(box: SecretBox, value: string, place: SecretPlace): { hmac: string; ciphertext: string } {
  const normalized = normalizeNationalId(value);
  return { hmac: box.hmac(`national_id:${normalized}`), ciphertext: box.encrypt(normalized, place) };
}

export function nationalIdHmac(box: SecretBox, value: string): string {
  return box.hmac(`national_id:${normalizeNationalId(value)}`);
}

const NATIONAL_ID_KEY = /national.?id|nationalidentificationnumber|national_identification_number|^nin$|^ssn$|personnummer|f(?:o|ø)dselsnummer/i;
export const REDACTED_NATIONAL_ID = '[national_id redacted]';

/**
 * The provider payload with every national id taken out, so `raw_json` can be stored: values under keys that name
 * a national id, and any string equal to the subject's national id wherever it appears.
 */
export function scrubNationalId(raw: unknown, nationalId: string | null | undefined): unknown {
  const known = nationalId ? normalizeNationalId(nationalId) : null;
  // Also inside longer text ("NIN 01019012345"), as written and normalized; too-short values would redact noise.
  const forms = [...new Set([nationalId?.trim() ?? '', known ?? ''])].filter((f) => f.length >= 6);
  const walk = (value: unknown, key: string | null): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, null));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    if (typeof value === 'string' || typeof value === 'number') {
      if (key !== null && NATIONAL_ID_KEY.test(key) && String(value) !== '') return REDACTED_NATIONAL_ID;
      if (known !== null && known !== '' && normalizeNationalId(String(value)) === known) return REDACTED_NATIONAL_ID;
      if (typeof value === 'string') {
        let text = value;
        for (const form of forms) text = text.split(form).join(REDACTED_NATIONAL_ID);
        return text;
      }
    }
    return value;
  };
  return walk(raw, null);
}
