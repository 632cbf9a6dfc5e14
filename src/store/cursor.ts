import { AppError } from '../errors.ts';

/** Position after the last row of a page in the (updated_at, id) order; opaque to clients (base64url JSON). */
export interface CertificateCursor {
  updated_at: string;
  id: string;
}

export function encodeCursor(cursor: CertificateCursor): string {
  return Buffer.from(JSON.stringify([cursor.updated_at, cursor.id]), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): CertificateCursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { updated_at: value[0], id: value[1] };
    }
  } catch {
    // fall through to the one error below
  }
  throw new AppError('invalid_request', 'cursor is not one this server returned');
}

/** True when `text` is a cursor this store hands out (for validating a query parameter up front). */
export function isCertificateCursor(text: string): boolean {
  try {
    decodeCursor(text);
    return true;
  } catch {
    return false;
  }
}

/** A position in any (text key, id) order, e.g. people by (name, id); same opaque form as the certificate cursor. */
export function encodeKeyCursor(key: string, id: string): string {
  return encodeCursor({ updated_at: key, id });
}

export function decodeKeyCursor(text: string): { key: string; id: string } {
  const { updated_at: key, id } = decodeCursor(text);
  return { key, id };
}
