import type { FastifyReply } from 'fastify';
import type { ErrorCode } from '../errors.ts';

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_config: 500,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  provider_unavailable: 502,
  provider_error: 502,
  secret_key_invalid: 500,
  database_unavailable: 503,
  // Client Closed Request (nginx's 499): the work was stopped before it finished.
  cancelled: 499,
  internal: 500,
};

export function httpStatusFor(code: ErrorCode): number {
  return STATUS[code];
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Seconds a client waits before trying again when the database is busy or gone: the store itself waits about 2 s. */
export const DATABASE_RETRY_AFTER_S = 2;

/** Every error response has this one shape (STYLE.md). */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string, status = httpStatusFor(code)) {
  const body: ErrorBody = { error: { code, message } };
  // Busy (another process holds SQLite's write lock) or gone (PostgreSQL restarting): both pass; say when to retry.
  if (code === 'database_unavailable' && !reply.hasHeader('retry-after')) void reply.header('retry-after', String(DATABASE_RETRY_AFTER_S));
  return reply.code(status).type('application/json').send(body);
}
