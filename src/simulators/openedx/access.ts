/**
 * What DRF does between authentication and the view (rest_framework/views.py APIView.initial):
 * permissions, then throttles. Permissions are upstream's UserCredentialPermissions
 * (credentials/apps/api/v2/permissions.py) and CanGetLearnerStatus
 * (credentials/apps/credentials/rest_api/v1/permissions.py); the throttle is CredentialRateThrottle
 * (credentials/apps/api/v2/views.py), a ScopedRateThrottle run by DRF's SimpleRateThrottle algorithm
 * (rest_framework/throttling.py).
 */
import type { SimRequest, SimResponse } from '../common/server.ts';
import { drfError, type Auth, type OAuthClient } from './auth.ts';

/** Django model permissions of credentials.UserCredential (`credentials.<name>`). */
export const PERMISSIONS = ['view_usercredential', 'add_usercredential', 'change_usercredential', 'delete_usercredential'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface Throttle {
  requests: number;
  per_seconds: number;
}

/** CredentialRateThrottle.THROTTLE_RATES["credential_view"] = "15/minute". */
export const CREDENTIAL_VIEW_RATE: Throttle = { requests: 15, per_seconds: 60 };

/** UserCredentialPermissions.perms_map (DjangoModelPermissions): the permission each method needs. */
const PERMS_MAP: Record<string, Permission> = { GET: 'view_usercredential', POST: 'add_usercredential', PUT: 'change_usercredential', PATCH: 'change_usercredential', DELETE: 'delete_usercredential' };

const DENIED = 'You do not have permission to perform this action.';

export interface Access {
  auth: Auth;
  /**
   * The credentials viewset (list, retrieve, create, update, destroy): JWT, then the model permission for the method
   * (`list` also passes when `?username=` is the caller's own), then the credential_view throttle (staff exempt).
   */
  credentials(req: SimRequest, action: 'list' | 'retrieve' | 'create' | 'update' | 'destroy'): OAuthClient | SimResponse;
  /** The learner status views: IsAuthenticated and CanGetLearnerStatus (the worker user or staff); no throttle. */
  learnerStatus(req: SimRequest): OAuthClient | SimResponse;
  /** Any authenticated client (the discovery slice). */
  authenticated(req: SimRequest): OAuthClient | SimResponse;
  resetThrottle(): void;
}

/** Django's User.has_perm: an active superuser has every permission. */
const hasPerm = (c: OAuthClient, p: Permission): boolean => c.superuser || c.permissions.includes(p);

export function createAccess(opts: { auth: Auth; throttle: Throttle | false; learnerStatusWorker: string }): Access {
  const { auth } = opts;
  // SimpleRateThrottle's cache: per key (the user), the accepted request times in seconds, newest first.
  const history = new Map<string, number[]>();

  const throttled = (client: OAuthClient, nowMs: number): SimResponse | null => {
    // CredentialRateThrottle.allow_request: staff and superusers get no scope, and a view without scope is not throttled.
    if (!opts.throttle || client.staff || client.superuser) return null;
    const { requests, per_seconds: duration } = opts.throttle;
    // ScopedRateThrottle.get_cache_key: throttle_credential_view_<user pk>; the user is the client's service user.
    const key = `throttle_credential_view_${client.serviceUser}`;
    let h = history.get(key);
    if (!h) history.set(key, (h = []));
    const now = nowMs / 1000;
    while (h.length > 0 && (h[h.length - 1] as number) <= now - duration) h.pop();
    if (h.length < requests) {
      h.unshift(now);
      return null;
    }
    // wait(): the time until the oldest request leaves the window, shared over the requests still available.
    const remaining = h.length > 0 ? duration - (now - (h[h.length - 1] as number)) : duration;
    const available = requests - h.length + 1;
    // Throttled(wait): math.ceil, and Retry-After '%d' % wait (only when wait is truthy).
    const wait = available <= 0 ? null : Math.ceil(remaining / available);
    const detail = wait === null ? 'Request was throttled.' : `Request was throttled. Expected available in ${wait} second${wait === 1 ? '' : 's'}.`;
    return drfError(429, detail, wait ? { 'retry-after': String(wait) } : undefined);
  };

  return {
    auth,
    credentials(req, action) {
      const who = auth.authenticate(req);
      if (!('clientId' in who)) return who;
      const perm = PERMS_MAP[req.method];
      let allowed = perm !== undefined && hasPerm(who, perm);
      // UserCredentialPermissions.has_permission: a list filtered on the caller's own username needs no permission.
      const filtered = (req.query.getAll('username').at(-1) ?? '').toLowerCase();
      if (!allowed && req.method === 'GET' && action === 'list' && filtered !== '') allowed = who.serviceUser.toLowerCase() === filtered;
      if (!allowed) return drfError(403, DENIED);
      return throttled(who, req.now.getTime()) ?? who;
    },
    learnerStatus(req) {
      const who = auth.authenticate(req);
      if (!('clientId' in who)) return who;
      return who.serviceUser === opts.learnerStatusWorker || who.staff ? who : drfError(403, DENIED);
    },
    authenticated: (req) => auth.authenticate(req),
    resetThrottle: () => history.clear(),
  };
}
