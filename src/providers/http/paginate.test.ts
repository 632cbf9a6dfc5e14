import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { createSimServer, jsonResponse } from '../../simulators/common/server.ts';
import { createProviderHttpClient } from './client.ts';
import { ALLOW_PRIVATE_EGRESS } from './egress.ts';
import { guardedPages } from './paginate.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface DrfPage {
  results: number[];
  next: string | null;
}

/** A DRF-style list (Open edX) whose page 3 links back to page 2 when `loop` is set. */
async function startList(loop: boolean): Promise<string> {
  const sim = createSimServer({
    name: 'list',
    routes: [
      {
        method: 'GET',
        path: '/api/v2/credentials/',
        name: 'GET /api/v2/credentials/',
        handle: (req) => {
          const page = Number(req.query.get('page') ?? '1');
          const nextPage = page < 4 ? (loop && page === 3 ? 2 : page + 1) : null;
          return jsonResponse(200, { results: [page * 10, page * 10 + 1], next: nextPage === null ? null : `${req.origin}/api/v2/credentials/?page=${nextPage}` });
        },
      },
    ],
    truth: () => [],
    errorBody: (_s, message) => ({ detail: message }),
  });
  const base = await sim.listen(0);
  cleanups.push(() => sim.close());
  return base;
}

async function collect(base: string, maxPages?: number): Promise<number[]> {
  const http = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, retry: { baseDelayMs: 5 } });
  cleanups.push(() => http.close());
  const out: number[] = [];
  const pages = guardedPages(
    async (url: string) => {
      const res = await http.request<DrfPage>({ method: 'GET', url, endpoint: 'GET /api/v2/credentials/' });
      return { items: res.data.results, next: res.data.next };
    },
    { first: `${base}/api/v2/credentials/?page=1`, endpoint: 'GET /api/v2/credentials/', maxPages },
  );
  for await (const page of pages) out.push(...page.items);
  return out;
}

describe('guardedPages over HTTP', () => {
  it('follows next links to the end', async () => {
    expect(await collect(await startList(false))).toEqual([10, 11, 20, 21, 30, 31, 40, 41]);
  });

  it('a next link already visited is a provider_error naming the endpoint', async () => {
    const err = await collect(await startList(true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('provider_error');
    expect((err as AppError).message).toBe('pagination loop: GET /api/v2/credentials/ returned a next link already visited');
  });

  it('more pages than maxPages is an error', async () => {
    const err = await collect(await startList(false), 3).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('provider_error');
    expect((err as AppError).message).toMatch(/more than 3 pages/);
  });
});
