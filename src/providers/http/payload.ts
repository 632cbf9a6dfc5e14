/** Shared by every connector: endpoint URLs under a base URL, and one clear error for a payload that breaks its schema. */
import type { z } from 'zod';
import { AppError } from '../../errors.ts';

/** `<base_url>/<path>` with exactly one slash between them. */
export function endpointUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** AppError('provider_error', '<endpoint> returned an unexpected payload: <path>: <issue>'). */
export function unexpectedPayload(endpoint: string, error: z.ZodError): AppError {
  const issue = error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '(body)' : issue.path.map(String).join('.');
  return new AppError('provider_error', `${endpoint} returned an unexpected payload: ${where}: ${issue?.message ?? 'invalid'}`, {
    details: { endpoint, issues: error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}

/** Parses `data` with `schema`, or throws `unexpectedPayload`. */
export function parsePayload<S extends z.ZodType>(endpoint: string, schema: S, data: unknown): z.output<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw unexpectedPayload(endpoint, parsed.error);
  return parsed.data;
}
