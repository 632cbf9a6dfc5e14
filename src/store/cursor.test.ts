import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { CERTIFICATE_CURSOR, decodeKeyCursor, decodeListCursor, encodeKeyCursor, encodeListCursor, isCertificateCursor } from './cursor.ts';

function refusal(decode: () => unknown): { code: string; message: string } | null {
  try {
    decode();
    return null;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { code: err.code, message: err.message };
  }
}

const REFUSED = { code: 'invalid_request', message: 'query.cursor: not a cursor this list returned' };

describe('list cursors', () => {
  it('gives back the position a list encoded, and the cursor is opaque URL-safe text', () => {
    const cursor = encodeKeyCursor('people', { key: 'Åse Ø/"x"', id: 'p-1' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeKeyCursor('people', cursor)).toEqual({ key: 'Åse Ø/"x"', id: 'p-1' });
    expect(decodeListCursor('compliance', encodeListCursor('compliance', ['p-9']), 1)).toEqual(['p-9']);
  });

  it("refuses another list's cursor, one of another size, and anything else, with one invalid_request", () => {
    const people = encodeKeyCursor('people', { key: 'Ola', id: 'p-1' });
    expect(refusal(() => decodeKeyCursor('suggestions', people))).toEqual(REFUSED);
    expect(refusal(() => decodeListCursor('people', people, 1))).toEqual(REFUSED);
    for (const junk of ['', 'garbage', 'nonsense', Buffer.from('[1,2]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      expect(refusal(() => decodeKeyCursor('people', junk)), junk).toEqual(REFUSED);
    }
  });

  it('tells a certificate-list cursor from any other', () => {
    expect(isCertificateCursor(encodeKeyCursor(CERTIFICATE_CURSOR, { key: '2025-01-01T00:00:00.000Z', id: 'c-1' }))).toBe(true);
    expect(isCertificateCursor(encodeKeyCursor('people', { key: '2025-01-01T00:00:00.000Z', id: 'c-1' }))).toBe(false);
    expect(isCertificateCursor('garbage')).toBe(false);
  });
});
