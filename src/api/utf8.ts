/**
 * Request text that is not valid UTF-8 is refused, not decoded into U+FFFD: a name or an id that silently changed on
 * the way in would be saved or looked up as something the caller never sent.
 */
import { isUtf8 } from 'node:buffer';

const HEX = /^[0-9A-Fa-f]{2}$/;

/** The bytes a query string stands for: its percent-escapes decoded, everything else as sent (Node reads it as latin1). */
export function queryBytes(query: string): Buffer {
  const raw = Buffer.from(query, 'latin1');
  const out = Buffer.alloc(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x25 && i + 2 < raw.length && HEX.test(query.slice(i + 1, i + 3))) {
      out[n++] = Number.parseInt(query.slice(i + 1, i + 3), 16);
      i += 2;
    } else out[n++] = b;
  }
  return out.subarray(0, n);
}

/** True when the URL's query string (after `?`) decodes to valid UTF-8, or there is none. */
export function queryIsUtf8(url: string): boolean {
  const at = url.indexOf('?');
  if (at < 0) return true;
  const query = url.slice(at + 1);
  // The common case: plain ASCII without escapes of bytes above 0x7F.
  if (/^[\x20-\x7e]*$/.test(query) && !/%[89A-Fa-f][0-9A-Fa-f]/.test(query)) return true;
  return isUtf8(queryBytes(query));
}
