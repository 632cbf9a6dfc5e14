/** zod schemas the routes share: the error body, the certificate, ids, pagination, instants, the ?format= of CSV answers. */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.ts';
import { ruleSchemas } from '../domain/requirement.ts';
import { providerIdSchema } from '../providers/registry.ts';

/** The certificate as the API answers it: the domain's own schema (its `Certificate` type is derived from it). */
export { certificateSchema } from '../domain/certificate.ts';

export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES).describe('Stable, for programs'),
    message: z.string().describe('One line, for people; names the field when a field is wrong'),
  }),
});

/** Hub ids: opaque strings. Anything else answers 404 like an unknown id (never 400, which would say "bad shape"). */
export const idSchema = z.string().min(1).max(200);
export const idParams = z.object({ id: idSchema.describe('The resource id') });

const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO-8601 instant (`2024-02-15T09:00:00Z`, an offset, or a bare date meaning its UTC midnight), as ISO UTC. */
export const instantSchema = z
  .string()
  .regex(INSTANT, 'must be an ISO-8601 instant such as 2024-02-15T09:00:00Z')
  .refine((text) => !Number.isNaN(Date.parse(text)), 'must be a real date and time')
  .transform((text) => new Date(text).toISOString());

/** YYYY-MM-DD, a real calendar day. */
export const dateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((text) => {
    const d = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
  }, 'must be a real calendar day');

export const asOfQuery = instantSchema
  .optional()
  .describe('Answer with what certhub knew at this instant (from the stored versions); default now');

/** Query-string integers arrive as text. */
export function intQuery(opts: { min: number; max: number; description: string }) {
  return z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${opts.min} to ${opts.max}`)
    .transform(Number)
    .refine((n) => n >= opts.min && n <= opts.max, `must be a whole number from ${opts.min} to ${opts.max}`)
    .describe(opts.description);
}

export const limitQuery = intQuery({ min: 1, max: 1000, description: 'Page size, 1 to 1000 (default 100)' }).optional();
export const cursorQuery = z.string().max(500).optional().describe('next_cursor of the previous page');

/** Query-string booleans: `true`/`false` (also 1/0). */
export const boolQuery = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .optional();

/** A query parameter that may repeat (`?status=a&status=b`) or list values with commas (`?status=a,b`), each an `item`. */
export function listQueryOf<T extends string>(item: z.ZodType<T, string>, description: string) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== ''))
    .pipe(z.array(item).max(50))
    .optional()
    .describe(description);
}

/** listQueryOf one of `values`. */
export function listQuery<T extends readonly [string, ...string[]]>(values: T, description: string) {
  return listQueryOf(z.enum(values), description);
}

/** A provider id in an answer (the ones this hub knows: GET /v1/providers). */
export { providerIdOutput } from './provider-view.ts';

/** A provider id in a request: one this hub knows. */
export const providerIdInput = providerIdSchema;

/** Requirement rules and achievement matchers in requests: their providers are ones this hub knows. */
export const knownProviderRules = ruleSchemas(providerIdInput);

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page'),
  });
}

export const formatQuery = z.enum(['json', 'csv']).optional().describe('csv: answer as CSV (same as Accept: text/csv)');
