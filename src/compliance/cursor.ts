/** Opaque cursors of the compliance lists (base64url JSON arrays of strings); a cursor of another list is refused. */
import { AppError } from '../errors.ts';

export function encodeListCursor(kind: string, parts: readonly string[]): string {
  return Buffer.from(JSON.stringify([kind, ...parts]), 'utf8').toString('base64url');
}

/** The parts after `kind`; AppError('invalid_request') naming query.cursor when it is not one of ours. */
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
