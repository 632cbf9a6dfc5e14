import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/index.ts';
import { SENSITIVE_KEY_NAMES } from '../redact.ts';

/** Keys whose values never reach a log line, at any of the first few levels of nesting (src/redact.ts). */
export const REDACTED_KEYS = SENSITIVE_KEY_NAMES;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of REDACTED_KEYS) {
    const accessor = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `["${key}"]`;
    paths.push(accessor.startsWith('.') ? key : accessor, `*${accessor}`, `*.*${accessor}`, `*.*.*${accessor}`);
  }
  return paths;
}

/**
 * A request URL as logged: its path, and the names of its query parameters without their values. Query values are
 * what people search for and filter by (a national id number, an email: `GET /v1/people?q=...`), and never belong
 * in a log line.
 */
export function loggedUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const names = url
    .slice(at + 1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => `${part.split('=')[0] ?? ''}=***`);
  return `${url.slice(0, at)}?${names.join('&')}`;
}

/** What a request log line says of the request (Fastify's `req`): no query values, no headers. */
function serializeRequest(req: { method?: unknown; url?: unknown; host?: unknown; ip?: unknown; socket?: { remotePort?: unknown } }): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? loggedUrl(req.url) : undefined,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** The process logger: structured JSON, secrets redacted by path (STYLE.md), request URLs without query values. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactPaths(), censor: '[redacted]' }, serializers: { req: serializeRequest } };
  // Synchronous writes: the last lines before an exit are not lost.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
