/**
 * Pagination guards for every provider that pages: an empty page ends, a `next` already visited is
 * an error (a provider looping would otherwise keep a sync running forever), and a page cap.
 */
import { AppError } from '../../errors.ts';

export interface FetchedPage<T, C> {
  items: T[];
  next: C | null;
}

export async function* guardedPages<T, C>(
  fetchPage: (cursor: C) => Promise<FetchedPage<T, C>>,
  opts: { first: C; endpoint: string; maxPages?: number; key?: (cursor: C) => string },
): AsyncGenerator<{ items: T[]; cursor: C; next: C | null }> {
  const key = opts.key ?? ((c: C) => JSON.stringify(c));
  const maxPages = opts.maxPages ?? 100_000;
  const seen = new Set<string>();
  let cursor: C | null = opts.first;
  for (let n = 0; cursor !== null; n++) {
    if (n >= maxPages) throw new AppError('provider_error', `${opts.endpoint}: more than ${maxPages} pages; stopping (page cap)`);
    seen.add(key(cursor));
    const page: FetchedPage<T, C> = await fetchPage(cursor);
    if (page.next !== null && seen.has(key(page.next))) {
      throw new AppError('provider_error', `pagination loop: ${opts.endpoint} returned a next link already visited`);
    }
    yield { items: page.items, cursor, next: page.items.length === 0 ? null : page.next };
    if (page.items.length === 0) return;
    cursor = page.next;
  }
}
