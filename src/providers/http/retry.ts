/** Retry policy of the provider HTTP client: which failures are worth another attempt, and how long to wait. */

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  /** Cap of the exponential backoff. A server's Retry-After may ask for more and is honoured. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out: the call fails with `rate_limited`. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 30_000, maxRetryAfterMs: 5 * 60_000 };

export const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** Full jitter: uniform in [0, min(max, base * 2^retryIndex)], retryIndex 0 for the first retry. */
export function backoffDelay(retryIndex: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}

/**
 * Milliseconds a `Retry-After` header asks for, in either form: delta-seconds (`120`) or an
 * HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`). A date in the past means 0; garbage means null.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number, serverDate?: string): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const text = raw.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  // An HTTP date is the server's clock: measured from the response's own Date header when it has one, a server
  // clock that is off from ours neither makes us retry early nor wait for hours.
  const answeredAt = serverDate === undefined ? Number.NaN : Date.parse(serverDate);
  return Math.max(0, at - (Number.isNaN(answeredAt) ? nowMs : answeredAt));
}

/** Network failures after which the request may not have reached the server, or its answer was lost. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** Failures where the request certainly never reached the server: safe to retry even a non-idempotent call. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_AGAIN']);

function codesOf(err: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur instanceof Error; depth++) {
    const code = (cur as Error & { code?: unknown }).code;
    if (typeof code === 'string') out.push(code);
    const members = (cur as Error & { errors?: unknown }).errors;
    if (Array.isArray(members)) {
      for (const m of members) {
        const c = (m as { code?: unknown } | null)?.code;
        if (typeof c === 'string') out.push(c);
      }
    }
    cur = cur.cause;
  }
  return out;
}

/**
 * Node and undici name the address and port they tried (`connect ECONNREFUSED 10.0.0.7:5432`, `attempted address:
 * ...`): a caller of the API must not learn what a name resolved to nor which ports answer (issue 13, finding 2).
 */
export function withoutAddresses(text: string): string {
  return text
    .replace(/\s*\(attempted address: [^)]*\)/gi, '')
    .replace(/\[[0-9a-f:.]*:[0-9a-f:.]*\](:\d+)?/gi, '<address>')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<address>')
    .replace(/(^|[\s(,])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f.]{0,15}(?:%[\w.]+)?(?::\d+)?(?=$|[\s),])/gi, '$1<address>')
    .replace(/ <address>/g, '')
    .trim();
}

/** A short reason for a network error (`ECONNRESET: socket hang up`), or null when it is not worth a retry. */
export function retryableNetworkReason(err: unknown, idempotent: boolean): string | null {
  const codes = codesOf(err);
  const message = withoutAddresses(err instanceof Error ? err.message : String(err));
  const hit = codes.find((c) => (idempotent ? RETRYABLE_CODES : NEVER_SENT_CODES).has(c));
  if (hit !== undefined) return message && message !== hit ? `${hit}: ${message}` : hit;
  if (idempotent && /socket hang up|other side closed/i.test(message)) return message;
  return null;
}

/** One line for a network error that is not retried. */
export function networkReason(err: unknown): string {
  const codes = codesOf(err);
  const message = withoutAddresses(err instanceof Error ? err.message : String(err));
  const code = codes[0];
  if (code === undefined) return message || 'network error';
  return message && message !== code ? `${code}: ${message}` : code;
}
