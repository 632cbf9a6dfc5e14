/** The zod schemas of certhub.yaml: strict everywhere, so a misspelt key is an error, not silently ignored. */
import { z } from 'zod';
import { DEFAULT_TIME_ZONE, isValidTimeZone } from '../domain/validity.ts';

export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 3000 } as const;
export const DEFAULT_TENANT = 'default';
export const DEFAULT_SYNC_EVERY = '1h';

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

const text = () => z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty');
const secret = () => z.string({ error: 'must be a string' }).min(1, 'must not be empty');
const httpUrl = () => z.string({ error: 'must be a string' }).trim().refine(isHttpUrl, 'must be an http(s) URL');
const slug = () =>
  z.string({ error: 'must be a string' }).max(64, 'must be at most 64 characters').regex(SLUG, 'must use only a-z, 0-9 and - (and not start with -)');

// `${PORT}` interpolates to a string; numbers and booleans written that way are still accepted.
const integer = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );
const positiveNumber = () =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v),
    z.number({ error: 'must be a number' }).positive('must be greater than 0'),
  );
const boolean = () =>
  z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean({ error: 'must be true or false' }));

const duration = () =>
  z
    .string({ error: 'must be a duration like 30s, 15m or 1h' })
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === null || ms < 1000) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration of at least 1s, like 30s, 15m or 1h' });
        return z.NEVER;
      }
      return ms;
    });

const rateLimitSchema = z.strictObject(
  { requests: integer(1, 1_000_000), per_seconds: positiveNumber() },
  { error: 'must be a mapping like { requests: 5, per_seconds: 1 }' },
);

const commonSourceFields = {
  id: slug(),
  tenant: slug().default(DEFAULT_TENANT),
  enabled: boolean().default(true),
  rate_limit: rateLimitSchema.optional(),
  sync_every: duration().prefault(DEFAULT_SYNC_EVERY),
};

// The schema says `sync_every` (as written in YAML); the resolved config says what the number is.
const resolveSyncEvery = <T extends { sync_every: number }>({ sync_every, ...rest }: T) => ({
  ...rest,
  sync_every_ms: sync_every,
});

const sourceObject = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.strictObject(shape, { error: 'must be a mapping' });

export const frontcoreSourceSchema = sourceObject({
  ...commonSourceFields,
  provider: z.literal('frontcore'),
  base_url: httpUrl(),
  api_key: secret(),
  // FrontCore datetimes carry no zone (frontcore-notes.md): this is the zone they are read in.
  timezone: text()
    .refine(isValidTimeZone, 'must be an IANA time zone like Europe/Oslo')
    .default(DEFAULT_TIME_ZONE),
}).transform(resolveSyncEvery);

export const falkorSourceSchema = sourceObject({
  ...commonSourceFields,
  provider: z.literal('falkor'),
  base_url: httpUrl(),
  token: secret(),
}).transform(resolveSyncEvery);

export const openedxSourceSchema = sourceObject({
  ...commonSourceFields,
  provider: z.literal('openedx'),
  base_url: httpUrl(),
  oauth: z.strictObject(
    { token_url: httpUrl(), client_id: secret(), client_secret: secret() },
    { error: 'must be a mapping with token_url, client_id and client_secret' },
  ),
  // The course-discovery catalog that names programs and course runs; default: base_url.
  catalog_url: httpUrl().optional(),
}).transform(resolveSyncEvery);

export const springestSourceSchema = sourceObject({
  ...commonSourceFields,
  provider: z.literal('springest'),
  base_url: httpUrl(),
  api_key: secret(),
  // Only `GET /certifications` needs it (springest-certificates.txt); pulling and pushing do not.
  certifications_api_key: secret().optional(),
}).transform(resolveSyncEvery);

export const sourceSchema = z.discriminatedUnion('provider', [
  frontcoreSourceSchema,
  falkorSourceSchema,
  openedxSourceSchema,
  springestSourceSchema,
]);

export type FrontcoreSourceConfig = z.output<typeof frontcoreSourceSchema>;
export type FalkorSourceConfig = z.output<typeof falkorSourceSchema>;
export type OpenedxSourceConfig = z.output<typeof openedxSourceSchema>;
export type SpringestSourceConfig = z.output<typeof springestSourceSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;

export const fileSchema = z.strictObject(
  {
    database: text().optional(),
    listen: z
      .strictObject(
        { host: text().default(DEFAULT_LISTEN.host), port: integer(0, 65535).default(DEFAULT_LISTEN.port) },
        { error: 'must be a mapping like { host: 127.0.0.1, port: 3000 }' },
      )
      .optional(),
    // `sources:` with nothing under it is YAML null: no sources.
    sources: z.preprocess((v) => v ?? [], z.array(sourceSchema, { error: 'must be a list' })),
  },
  { error: 'must be a mapping' },
);
