import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.ts';

/** Keys whose values never reach a log line, at any of the first few levels of nesting. */
export const REDACTED_KEYS = [
  'api_key',
  'certifications_api_key',
  'authorization',
  'x-api-key',
  'national_identification_number',
  'national_id',
  'password',
  'token',
  'access_token',
  'client_secret',
  'secretKey',
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of REDACTED_KEYS) {
    const accessor = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `["${key}"]`;
    paths.push(accessor.startsWith('.') ? key : accessor, `*${accessor}`, `*.*${accessor}`, `*.*.*${accessor}`);
  }
  return paths;
}

/** The process logger: structured JSON, secrets redacted by path (STYLE.md). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactPaths(), censor: '[redacted]' } };
  // Synchronous writes: the last lines before an exit are not lost.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
