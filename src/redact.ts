/**
 * Redaction of provider credentials from anything certhub prints, logs or returns: error messages,
 * error details, cause chains and log lines. Secrets are known values (API keys, tokens) plus
 * whatever sits under a sensitive query parameter, header or JSON key.
 */

import { AppError, describeError, type ErrorCode } from './errors.ts';

export const REDACTED = '***';

/** Query parameters whose values are credentials (Springest puts `api_key` in the URL). */
const SENSITIVE_PARAMS = ['api_key', 'token', 'access_token', 'refresh_token', 'client_secret', 'password'];
/** Headers whose values are credentials. */
const SENSITIVE_HEADERS = ['authorization', 'x-api-key', 'proxy-authorization', 'cookie', 'set-cookie'];
/**
 * What is a secret by name: object keys whose values never reach a log line, an error's details or an answer,
 * wherever they appear (the process logger's redact paths are these too). Every provider's credential settings
 * (Provider.secrets) are named here; a test checks that they agree.
 */
export const SENSITIVE_KEY_NAMES: readonly string[] = [
  ...SENSITIVE_PARAMS,
  ...SENSITIVE_HEADERS,
  'certifications_api_key',
  'client_id',
  'national_identification_number',
  'national_id',
  'secretKey',
];
const SENSITIVE_KEYS = new Set(SENSITIVE_KEY_NAMES.map((k) => k.toLowerCase()));

const names = (list: readonly string[]): string => list.map((n) => n.replace(/[-]/g, '\\-')).join('|');

// `?api_key=...`, `&token=...` (also at the start of a form body). The lookbehind set stops
// `token` matching inside `access_token` or `token_type`.
const QUERY_RE = new RegExp(`(^|[?&;\\s"'(<,])(${names(SENSITIVE_PARAMS)})=([^&#\\s"'<>,;)]*)`, 'gi');
// `"api_key": "..."` inside JSON text.
const JSON_RE = new RegExp(`"(${names(SENSITIVE_KEY_NAMES)})"(\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
// `Authorization: Basic abc` / `x-api-key=abc` in header dumps and messages.
const HEADER_RE = new RegExp(`\\b(${names(SENSITIVE_HEADERS)})(\\s*[:=]\\s*)(?!\\*\\*\\*)([^\\r\\n"',}]+)`, 'gi');
// `https://user:password@host`.
const USERINFO_RE = /(\/\/[^/:@\s]+):([^@/\s]+)@/g;

/** Secrets shorter than this are ignored: replacing one- or two-character strings would shred any text. */
const MIN_SECRET_LENGTH = 4;

function secretVariants(secrets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < MIN_SECRET_LENGTH) continue;
    out.add(s);
    // The same secret as it appears in a URL, a form body, escaped inside JSON text, or base64-encoded
    // (an `Authorization: Basic` value built from it).
    out.add(encodeURIComponent(s));
    out.add(Buffer.from(s).toString('base64'));
    out.add(Buffer.from(s).toString('base64url'));
    out.add(new URLSearchParams({ s }).toString().slice(2));
    out.add(JSON.stringify(s).slice(1, -1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...out].filter((v) => v.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** `text` with every secret value, sensitive query parameter, header value and URL password replaced by `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const variant of secretVariants(secrets)) out = out.split(variant).join(REDACTED);
  return out
    .replace(QUERY_RE, (_m, pre: string, name: string) => `${pre}${name}=${REDACTED}`)
    .replace(JSON_RE, (_m, name: string, sep: string) => `"${name}"${sep}"${REDACTED}"`)
    .replace(HEADER_RE, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`)
    .replace(USERINFO_RE, (_m, user: string) => `${user}:${REDACTED}@`);
}

/** A URL as text, safe to print. */
export function redactUrl(url: string | URL, secrets: readonly string[] = []): string {
  return redact(typeof url === 'string' ? url : url.toString(), secrets);
}

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEYS.has(key.toLowerCase());
}

/**
 * A deep copy of `value` safe to log or attach as error details: strings redacted, values under
 * sensitive keys replaced, errors rebuilt by `redactError`. Cycles and depth are bounded.
 */
export function redactValue(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[nested]';
  if (value instanceof Error) return redactError(value, secrets, depth);
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets, depth + 1));
  if (value instanceof URL) return redactUrl(value, secrets);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSensitiveKey(k) ? REDACTED : redactValue(v, secrets, depth + 1);
  return out;
}

/**
 * A copy of `err` whose message, stack, code and cause chain (and AggregateError members) are
 * redacted. Foreign errors (undici, node) may carry URLs or headers; only copies leave this module.
 */
export function redactError(err: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (!(err instanceof Error)) return redactValue(err, secrets, depth + 1);
  const copy = new Error(redact(err.message, secrets));
  copy.name = err.name;
  copy.stack = err.stack === undefined ? undefined : redact(err.stack, secrets);
  const extra = copy as Error & { code?: unknown; errors?: unknown };
  const source = err as Error & { code?: unknown; errors?: unknown };
  if (typeof source.code === 'string' || typeof source.code === 'number') extra.code = source.code;
  if (depth < 4) {
    if (err.cause !== undefined) {
      Object.defineProperty(copy, 'cause', { value: redactError(err.cause, secrets, depth + 1), enumerable: false, writable: true, configurable: true });
    }
    if (Array.isArray(source.errors)) extra.errors = source.errors.map((e: unknown) => redactError(e, secrets, depth + 1));
  }
  return copy;
}

// In one-line error reports: `?api_key=...`, `token=...` in URLs and messages, `Bearer xyz`, `Basic xyz`, `JWT xyz`.
const REPORT_SECRET_PARAM = /\b([\w-]*(?:key|token|secret|password)[\w-]*)=([^&\s"']+)/gi;
const REPORT_AUTH_SCHEME = /\b(Bearer|Basic|JWT)\s+[A-Za-z0-9._~+/=-]+/g;

/**
 * An error as a run report, a connection test or a live check carries it: a stable code and one line (at most 500
 * characters), with the known secrets and anything secret-shaped masked.
 */
export function reportError(err: unknown, secrets: readonly string[]): { code: ErrorCode; message: string } {
  const code: ErrorCode = err instanceof AppError ? err.code : 'internal';
  let message = describeError(err).replace(/\s*\n\s*/g, ' ').trim();
  for (const secret of secrets) if (secret !== '') message = message.split(secret).join(REDACTED);
  message = redact(message, secrets)
    .replace(REPORT_SECRET_PARAM, (_m, name: string) => `${name}=${REDACTED}`)
    .replace(REPORT_AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  if (message.length > 500) message = `${message.slice(0, 497)}...`;
  return { code, message: message === '' ? 'unknown error' : message };
}
