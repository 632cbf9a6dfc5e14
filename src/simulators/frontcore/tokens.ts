/**
 * Download tokens for `links.download`: HS256 JWTs (the doc's example token starts with the JWT
 * header `eyJ0eXAiOiJKV1QiLCJhbGc`) signed over the user, the diploma and the expiry.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DownloadTokens {
  sign(userId: number, diplomaId: number, expiresAtSec: number): string;
  verify(token: string, userId: number, diplomaId: number, nowMs: number): 'ok' | 'expired' | 'invalid';
}

const HEADER = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS256' })).toString('base64url');

export function createDownloadTokens(secret: string): DownloadTokens {
  const mac = (data: string): Buffer => createHmac('sha256', secret).update(data).digest();
  return {
    sign(userId, diplomaId, exp) {
      const payload = Buffer.from(JSON.stringify({ sub: userId, diploma: diplomaId, exp })).toString('base64url');
      return `${HEADER}.${payload}.${mac(`${HEADER}.${payload}`).toString('base64url')}`;
    },
    verify(token, userId, diplomaId, nowMs) {
      const parts = token.split('.');
      if (parts.length !== 3) return 'invalid';
      const [head = '', payload = '', signature = ''] = parts;
      const expected = mac(`${head}.${payload}`);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return 'invalid';
      }
      const c = claims as { sub?: unknown; diploma?: unknown; exp?: unknown };
      // A genuine token for another diploma does not open this one.
      if (c.sub !== userId || c.diploma !== diplomaId || typeof c.exp !== 'number') return 'invalid';
      return nowMs >= c.exp * 1000 ? 'expired' : 'ok';
    },
  };
}
