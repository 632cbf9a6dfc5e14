/** Every failure certhub reports carries a stable `code`; the HTTP status mapping lives in api/. */
export const ERROR_CODES = [
  'invalid_request',
  'invalid_config',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'provider_unavailable',
  'provider_error',
  'secret_key_invalid',
  'database_unavailable',
  /** The work was stopped on purpose (shutdown, Ctrl-C): not a failure of anything. */
  'cancelled',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** One line suitable for a CLI or a log: the message of an AppError, or a generic message otherwise. */
export function describeError(err: unknown): string {
  if (err instanceof AppError) return err.message;
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err);
}
