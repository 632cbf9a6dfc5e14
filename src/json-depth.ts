/**
 * How deeply a JSON text nests, read in one pass without parsing it (brackets inside strings do not count), stopping
 * as soon as it passes `limit`: a body nested a million levels deep is refused in the time it takes to scan it, before
 * a parser (and every walk over the result) spends itself on it.
 */
export function jsonDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Deeper than this, a request body is refused: no certhub body nests more than a few levels. */
export const MAX_JSON_DEPTH = 32;
