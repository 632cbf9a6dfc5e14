/** API keys on requests: `Authorization: Bearer chk_...`, resolved to the key's tenant and role, then rate-limited. */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { ApiKeyRepository } from '../store/index.ts';
import type { KeyRateLimiter } from './key-quota.ts';
import type { Caller, RouteAccess } from './route.ts';

/** How often a key's last use is written (the store keeps the same minute). */
const TOUCH_EVERY_MS = 60_000;

export interface Authenticator {
  authenticate(request: FastifyRequest, access: Exclude<RouteAccess, 'public'>): Promise<Caller>;
  /** Takes `units` more of the caller's quota, or throws AppError('rate_limited') (the answer gets Retry-After). */
  charge(request: FastifyRequest, caller: Caller, units: number): void;
  /** Takes units for work already under way (an export's rows), never refusing. */
  spend(caller: Caller, units: number): void;
}

/** The key in `Authorization: Bearer <key>`, or null when the header is absent. */
export function bearerKey(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match?.[1] === undefined) {
    throw new AppError('unauthorized', 'the Authorization header must be "Bearer <api key>"');
  }
  return match[1];
}

export function createAuthenticator(opts: {
  keys: ApiKeyRepository;
  limiter: KeyRateLimiter | null;
  /** Failed authentications per client address (wrong, revoked or missing keys); past it, further failures are 429. */
  failures?: KeyRateLimiter | null;
  /** Called with the seconds to wait when a key is over its limit (the route answers 429 with Retry-After). */
  onLimited?: (request: FastifyRequest, retryAfterSeconds: number) => void;
  now?: () => number;
}): Authenticator {
  const now = opts.now ?? (() => Date.now());
  // The store stamps last use at most once a minute; remembering here when this process last asked saves an UPDATE
  // statement (a write lock on SQLite) on every other request.
  const touchedAt = new Map<string, number>();
  return {
    charge(request, caller, units) {
      const wait = opts.limiter?.take(caller.keyId, units) ?? 0;
      if (wait > 0) {
        opts.onLimited?.(request, wait);
        throw new AppError('rate_limited', `this request costs ${units + 1} units of this API key's quota, more than it has left; retry in ${wait} s`);
      }
    },
    spend(caller, units) {
      opts.limiter?.spend(caller.keyId, units);
    },
    async authenticate(request, access) {
      const failures = opts.failures ?? null;
      // An address that keeps failing is answered 429 for its next failures until its budget refills. A valid key
      // from it still works: others behind the same address (a proxy, an office) are not locked out by one client.
      function refuse(message: string): never {
        const wait = failures?.take(request.ip) ?? 0;
        if (wait > 0) {
          opts.onLimited?.(request, wait);
          throw new AppError('rate_limited', `too many requests without a valid API key from this address; retry in ${wait} s`);
        }
        throw new AppError('unauthorized', message);
      }
      let secret: string | null;
      try {
        secret = bearerKey(request);
      } catch (err) {
        return refuse((err as Error).message);
      }
      if (secret === null) refuse('an API key is required: send "Authorization: Bearer chk_..."');
      const key = await opts.keys.authenticate(secret);
      if (key === null) refuse('the API key is not valid (unknown or revoked)');
      const caller: Caller = { keyId: key.id, tenantId: key.tenant_id, role: key.role };
      if (opts.limiter !== null) {
        const wait = opts.limiter.take(key.id);
        if (wait > 0) {
          opts.onLimited?.(request, wait);
          throw new AppError('rate_limited', `too many requests for this API key; retry in ${wait} s`);
        }
      }
      if (access === 'admin' && key.role !== 'admin') {
        throw new AppError('forbidden', 'this API key may only read; an admin key is needed');
      }
      const t = now();
      if (t - (touchedAt.get(key.id) ?? -Infinity) >= TOUCH_EVERY_MS) {
        touchedAt.set(key.id, t);
        // Fire and forget: a failed last-used stamp must not fail the request.
        opts.keys.touch(key.id).catch(() => undefined);
      }
      return caller;
    },
  };
}
