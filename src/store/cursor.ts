/**
 * Opaque list cursors, one codec for every paginated list: base64url JSON `[kind, ...parts]`, all strings. The kind
 * names the list that issued the cursor, so a cursor of one list is refused by another rather than read as a
 * position in the wrong order.
 */
import { AppError } from '../errors.ts';

/** The kind of the certificate list's cursors, (updated_at, id). */
export const CERTIFICATE_CURSOR = 'certificates';

export function encodeListCursor(kind: string, parts: readonly string[]): string {
  return Buffer.from(JSON.stringify([kind, ...parts]), 'utf8').toString('base64url');
}

/** The `size` parts after `kind`; AppError('invalid_request') naming query.cursor when it is not one of that list's. */
export function decodeListCursor(kind: string, text: string, size: number): string[] {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === size + 1 &&
      value[0] === kind &&
      value.every((v): v is string => typeof v === 'string')
    ) {
      return value.slice(1);
    }
  } catch {
    // fall through to the one error below
  }
  throw new AppError('invalid_request', 'query.cursor: not a cursor this list returned');
}

/** A position in a (text key, id) order, e.g. people by (name, id) or certificates by (updated_at, id). */
export interface KeyPosition {
  key: string;
  id: string;
}

export function encodeKeyCursor(kind: string, after: KeyPosition): string {
  return encodeListCursor(kind, [after.key, after.id]);
}

export function decodeKeyCursor(kind: string, text: string): KeyPosition {
  const [key, id] = decodeListCursor(kind, text, 2) as [string, string];
  return { key, id };
}

/** True when `text` is a cursor the certificate list hands out (for validating a query parameter up front). */
export function isCertificateCursor(text: string): boolean {
  try {
    decodeKeyCursor(CERTIFICATE_CURSOR, text);
    return true;
  } catch {
    return false;
  }
}
