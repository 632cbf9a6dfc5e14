/**
 * The LMS side: `POST /oauth2/access_token` (client credentials, `token_type=jwt`) and the
 * `Authorization: JWT <token>` check of the Credentials API, with DRF / edx-drf-extensions messages.
 * Tokens are HS256 JWTs signed with a seed-derived secret and really expire (server clock).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Permission } from './access.ts';
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { World } from '../common/world.ts';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** The LMS service user the client acts as (JWT `preferred_username`). */
  serviceUser: string;
  /** The service user's `is_staff`: exempt from the credential_view throttle, may ask learner status. */
  staff: boolean;
  /** `is_superuser`: every permission, and no throttle. */
  superuser: boolean;
  /** The service user's `credentials.*` model permissions. */
  permissions: readonly Permission[];
}

/** Per-client settings of the service user behind it (createOpenedxSimulator `clients`, by index). */
export interface OpenedxClientOptions {
  staff?: boolean;
  superuser?: boolean;
  /** Default `['view_usercredential']`: what a read-only sync needs. */
  permissions?: readonly Permission[];
}

export interface Auth {
  clients: readonly OAuthClient[];
  tokenRoute: SimRoute;
  /** JWT authentication of one API request: the client, or the DRF 401 to answer. */
  authenticate(req: SimRequest): OAuthClient | SimResponse;
  /** Every token issued so far now reads as expired (a test of "re-fetch on 401" without waiting). */
  expireAll(): number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export function drfError(status: number, detail: string, headers?: Record<string, string>): SimResponse {
  return jsonResponse(status, { detail }, headers);
}

function secretHex(world: World, label: string, words: number): string {
  const rng = world.rng.fork('openedx').fork(label);
  let hex = '';
  for (let i = 0; i < words; i++) hex += rng.int(0, 0xffff_ffff).toString(16).padStart(8, '0');
  return hex;
}

export function openedxClients(world: World, options: readonly (OpenedxClientOptions | undefined)[] = []): OAuthClient[] {
  const access = (i: number): Pick<OAuthClient, 'staff' | 'superuser' | 'permissions'> => ({
    staff: options[i]?.staff ?? false,
    superuser: options[i]?.superuser ?? false,
    permissions: options[i]?.permissions ?? ['view_usercredential'],
  });
  return [
    { clientId: `certhub-${secretHex(world, 'client-id-main', 2)}`, clientSecret: secretHex(world, 'client-secret-main', 8), serviceUser: 'certhub_service_worker', ...access(0) },
    { clientId: `reports-${secretHex(world, 'client-id-second', 2)}`, clientSecret: secretHex(world, 'client-secret-second', 8), serviceUser: 'reports_service_worker', ...access(1) },
  ];
}

/** Form-encoded or JSON token request fields, plus HTTP Basic client authentication. */
function tokenParams(req: SimRequest): Record<string, string> {
  const text = req.body.toString('utf8');
  const out: Record<string, string> = {};
  if ((req.headers['content-type'] ?? '').includes('json')) {
    try {
      const parsed: unknown = JSON.parse(text || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
      }
    } catch {
      // oauthlib reads an unparseable body as no parameters.
    }
  } else {
    for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  }
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (basic?.[1] && out.client_id === undefined) {
    const [id = '', secret = ''] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    out.client_id = decodeURIComponent(id);
    out.client_secret = decodeURIComponent(secret);
  }
  return out;
}

export function createAuth(opts: { world: World; clients: readonly OAuthClient[]; tokenTtlSeconds: number }): Auth {
  const secret = secretHex(opts.world, 'jwt-signing-key', 8);
  const mac = (data: string): Buffer => createHmac('sha256', secret).update(data).digest();
  let nextJti = 1;
  let expiredBelow = 0;
  const byId = new Map(opts.clients.map((c) => [c.clientId, c]));

  const tokenRoute: SimRoute = {
    method: 'POST',
    path: '/oauth2/access_token',
    doc: 'LMS OAuth2 token endpoint: client_credentials; token_type=jwt gives a JWT for the Credentials API.',
    handle(req) {
      const p = tokenParams(req);
      const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };
      // oauthlib checks the grant type before it authenticates the client.
      if (p.grant_type !== 'client_credentials') return jsonResponse(400, { error: 'unsupported_grant_type' }, noStore);
      const client = byId.get(p.client_id ?? '');
      if (!client || p.client_secret !== client.clientSecret) return jsonResponse(401, { error: 'invalid_client' }, noStore);
      const iat = Math.floor(req.now.getTime() / 1000);
      const jti = nextJti++;
      const scope = 'read write';
      if ((p.token_type ?? '').toLowerCase() !== 'jwt') {
        // Without token_type=jwt the LMS hands out an opaque Bearer token, which the Credentials API does not take.
        const opaque = mac(`opaque.${jti}`).toString('base64url').replace(/[-_]/g, '').slice(0, 30);
        return jsonResponse(200, { access_token: opaque, expires_in: opts.tokenTtlSeconds, token_type: 'Bearer', scope }, noStore);
      }
      const claims = {
        aud: 'lms-key',
        client_id: client.clientId,
        exp: iat + opts.tokenTtlSeconds,
        grant_type: 'client-credentials',
        iat,
        iss: `${req.origin}/oauth2`,
        jti: String(jti),
        preferred_username: client.serviceUser,
        scopes: ['read', 'write'],
        sub: mac(`sub.${client.clientId}`).toString('hex').slice(0, 32),
        version: '1.2.0',
      };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const token = `${HEADER}.${payload}.${mac(`${HEADER}.${payload}`).toString('base64url')}`;
      return jsonResponse(200, { access_token: token, expires_in: opts.tokenTtlSeconds, token_type: 'JWT', scope }, noStore);
    },
  };

  const unauthorized = (detail: string): SimResponse => drfError(401, detail, { 'www-authenticate': 'JWT realm="api"' });

  const authenticate = (req: SimRequest): OAuthClient | SimResponse => {
    const parts = (req.headers.authorization ?? '').split(/\s+/).filter(Boolean);
    // Only the JWT scheme (case-insensitive) authenticates; anything else counts as no credentials.
    if (parts.length === 0 || (parts[0] ?? '').toLowerCase() !== 'jwt') return unauthorized('Authentication credentials were not provided.');
    if (parts.length === 1) return unauthorized('Invalid Authorization header. No credentials provided.');
    if (parts.length > 2) return unauthorized('Invalid Authorization header. Credentials string should not contain spaces.');
    const [head = '', payload = '', signature = '', ...rest] = (parts[1] ?? '').split('.');
    const expected = mac(`${head}.${payload}`);
    const given = Buffer.from(signature, 'base64url');
    if (rest.length > 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) return unauthorized('Error decoding signature.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp: number; jti: string; client_id: string };
    if (req.now.getTime() >= claims.exp * 1000 || Number(claims.jti) < expiredBelow) return unauthorized('Signature has expired.');
    return byId.get(claims.client_id) ?? unauthorized('Invalid token.');
  };

  return {
    clients: opts.clients,
    tokenRoute,
    authenticate,
    expireAll() {
      expiredBelow = nextJti;
      return expiredBelow - 1;
    },
  };
}
