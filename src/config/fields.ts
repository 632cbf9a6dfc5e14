/**
 * The field types certhub.yaml is written in (strings, secrets, URLs, slugs, numbers, durations), shared by the file's
 * own schema and by each provider's settings (providers/<id>/schema.ts). `${VAR}` interpolates to a string, so numbers
 * and booleans written that way are still accepted.
 */
import { z } from 'zod';

const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d)/g;
const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m`, `1h`, `30s`, `1h30m`, `500ms`, `1d` -> milliseconds; null when not a duration. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return null;
  let ms = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0);
  return ms;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export const text = () => z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty');
export const secret = () => z.string({ error: 'must be a string' }).min(1, 'must not be empty');
/**
 * A provider URL. A `#` is refused (a fragment is never sent, and `#`/`?` tricks pick a path other than the one the
 * connector builds), and so is `user:password@` (a credential in the URL, which would go wherever the URL goes and be
 * printed unmasked): credentials belong in their own fields (issue 13, findings 1 and 2).
 */
export const httpUrl = () =>
  z
    .string({ error: 'must be a string' })
    .trim()
    .refine(isHttpUrl, 'must be an http(s) URL')
    .refine((value) => !value.includes('#'), 'must not contain # (a fragment): give the URL without it')
    .refine(
      (value) => !isHttpUrl(value) || (new URL(value).username === '' && new URL(value).password === ''),
      'must not contain a user name or password (user:password@): put credentials in their own fields',
    );
export const slug = () =>
  z.string({ error: 'must be a string' }).max(64, 'must be at most 64 characters').regex(SLUG, 'must use only a-z, 0-9 and - (and not start with -)');

export const integer = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );
export const positiveNumber = () =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v),
    z.number({ error: 'must be a number' }).positive('must be greater than 0'),
  );
export const boolean = () =>
  z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean({ error: 'must be true or false' }));

/** `minMs` is the shortest accepted, named in the message as written in `minText` (e.g. `1m`). */
export const duration = (minMs = 1000, minText = '1s') =>
  z
    .string({ error: 'must be a duration like 30s, 15m or 1h' })
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === null || ms < minMs) {
        ctx.addIssue({ code: 'custom', message: `must be a duration of at least ${minText}, like 15m or 1h` });
        return z.NEVER;
      }
      return ms;
    });
