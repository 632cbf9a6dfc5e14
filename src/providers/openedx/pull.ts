/** Open edX's pull: the credentials list page by page, with the titles of what they name, resuming from the saved page. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { CatalogAchievement, Checkpoint, Page, PullContext } from '../provider.ts';
import { guardedPages } from '../http/index.ts';
import { courseRunTitles, createOpenedxSession, credentialsPageUrl, LIST_CREDENTIALS, listCredentialsPage, PAGE_SIZE, programTitles, type OpenedxSession } from './client.ts';
import { toCatalogAchievement, toCertificate, type NormalizeContext } from './normalize.ts';
import { type Credential, type OpenedxConfig } from './schema.ts';

/**
 * The checkpoint saved with every page.
 * - `page`: the list page the scan continues from, when the scan is not finished; null on the last page of a
 *   scan, so the next pull begins a new full scan from page 1. A crash at any instant resumes at the page after
 *   the last one saved (the engine saves each page with its checkpoint in one transaction).
 * - `count`: the list's `count` when that page was read, and `last`: a digest of its uuids. They let the
 *   resumed run see that the list shrank meanwhile, or that a page came back stale (see `fetchPage`).
 * When the scan started is NOT here: the engine keeps it across resumed runs and sweeps from it once a pull ends
 * without error (provider.ts, "Sweep semantics").
 */
export interface OpenedxCheckpoint {
  v: 1;
  page: number | null;
  count: number | null;
  last: string | null;
}

const checkpointSchema = z.object({
  v: z.literal(1),
  page: z.number().int().min(1).nullable(),
  count: z.number().int().nonnegative().nullable(),
  last: z.string().nullable(),
});

/** The stored checkpoint, or null (a new scan) when there is none or it is not one of ours. */
export function readOpenedxCheckpoint(checkpoint: Checkpoint | null): OpenedxCheckpoint | null {
  const parsed = checkpointSchema.safeParse(checkpoint);
  return parsed.success ? parsed.data : null;
}

/** Go back to `page` and read on from there (the list shrank under the scan). */
class Rewind extends Error {
  constructor(
    readonly page: number,
    readonly gone: boolean,
  ) {
    super(`rewind to page ${page}`);
  }
}

/** Rewinds a run allows (deletions racing the scan); then a shrinking list is read on as it is. */
const MAX_REWINDS = 5;
/** Times a page that repeats the previous one is asked again. */
const MAX_REPEAT_REFETCH = 4;

function digest(items: readonly Credential[]): string {
  return createHash('sha256')
    .update(items.map((c) => c.uuid).join('\n'))
    .digest('base64url')
    .slice(0, 16);
}

const versionOf = (c: Credential): string => `${c.uuid}\u0000${c.modified ?? ''}`;

/** The `page` of a DRF page link (none: page 1); null if it has one we cannot read. */
function pageOf(link: string): number | null {
  try {
    const raw = new URL(link).searchParams.get('page');
    if (raw === null) return 1;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 ? n : null;
  } catch {
    return null;
  }
}

interface TitleCache {
  programs: Map<string, string | null>;
  runs: Map<string, string | null>;
}

/** Asks the catalog for the programs and runs of `items` not yet named this run: at most one request each. */
async function learnTitles(session: OpenedxSession, items: readonly Credential[], titles: TitleCache, signal: AbortSignal): Promise<void> {
  const programs = [...new Set(items.flatMap((c) => (c.credential.course_run_key ? [] : [(c.credential.program_uuid ?? '').toLowerCase()])))].filter((u) => u !== '' && !titles.programs.has(u));
  const runs = [...new Set(items.flatMap((c) => (c.credential.course_run_key ? [c.credential.course_run_key] : [])))].filter((k) => !titles.runs.has(k));
  if (programs.length > 0) {
    const found = await programTitles(session, programs, signal);
    // Not in the catalog: remembered as untitled, so it is not asked again this run.
    for (const u of programs) titles.programs.set(u, found.programs.get(u) ?? null);
    for (const [k, title] of found.runs) if (!titles.runs.has(k)) titles.runs.set(k, title);
  }
  // Asked after the programs: their answer names the runs of their courses too.
  const unknownRuns = runs.filter((k) => !titles.runs.has(k));
  if (unknownRuns.length > 0) {
    const found = await courseRunTitles(session, unknownRuns, signal);
    for (const k of unknownRuns) titles.runs.set(k, found.get(k) ?? null);
  }
}

export interface OpenedxProviderOptions {
  /** Credentials a list page (default and DRF maximum 100); tests use small pages to exercise resuming. */
  pageSize?: number;
}

/**
 * One full scan of the credentials list, resumable from any page's checkpoint.
 *
 * Page pagination over a list that changes while it is read: new credentials are appended (the list is ordered by
 * id), so they never shift what is still to come; a DELETED credential before the scan's position shifts every
 * later row one place back, and the row that slides from the next page onto a page already read would be missed
 * (and swept). The scan therefore watches `count`: when it drops (since the previous page, or since the page a
 * crashed run saved), it steps back as many pages as rows vanished and reads on from there (rows already handed
 * over are not handed over again). A page that no longer exists (404 "Invalid page.") sends it back to page 1.
 * Not caught: a deletion and an addition between two pages (count unchanged); the row it hides is swept and
 * comes back with the next scan.
 */
export async function* pullOpenedxCredentials(ctx: PullContext<OpenedxConfig>, checkpoint: Checkpoint | null, opts: OpenedxProviderOptions = {}): AsyncGenerator<Page> {
  const pageSize = opts.pageSize ?? PAGE_SIZE;
  const previous = ctx.full ? null : readOpenedxCheckpoint(checkpoint);
  const resuming = previous !== null && previous.page !== null;
  const session = createOpenedxSession(ctx.http, ctx.config, () => ctx.now());
  const titles: TitleCache = { programs: new Map(), runs: new Map() };
  const normalizeCtx: NormalizeContext = { titles };
  // Dedupe within the run: a credential already handed over unchanged (a page served twice, rows shifted by a
  // deletion, a rewind). A changed one (`modified`) is handed over again: the engine keeps the last.
  const handedOver = new Set<string>();
  const named = new Set<string>();
  let lastDigest = resuming ? previous.last : null;
  let lastCount = resuming ? previous.count : null;
  let startPage = resuming ? (previous.page ?? 1) : 1;
  let rewinds = 0;

  // GET <base_url>/api/v2/credentials/?page=N&page_size=100 (the first URL), then each `next` link as given.
  const fetchPage = async (url: string): Promise<{ items: Credential[]; next: string | null; count: number | undefined }> => {
    const pageNo = pageOf(url) ?? 1;
    for (let refetch = 0; ; refetch++) {
      const page = await listCredentialsPage(session, url, ctx.signal);
      if (page === null) throw new Rewind(1, true);
      const shrunk = page.count !== undefined && lastCount !== null ? lastCount - page.count : 0;
      lastCount = page.count ?? lastCount;
      if (shrunk > 0 && pageNo > 1 && rewinds < MAX_REWINDS) throw new Rewind(Math.max(1, pageNo - Math.ceil(shrunk / pageSize)), false);
      // A page > 1 that lists exactly the rows of the page before it was served stale (the simulator's
      // repeat_page fault; a cache in front of the LMS could do the same): its own rows are missing, and a scan
      // that skipped them would sweep them. Ask again; if it stays stale, fail the run rather than end a scan
      // known to be incomplete (the next run resumes at this page).
      const same = page.results.length > 0 && lastDigest !== null && digest(page.results) === lastDigest;
      if (!same) return { items: page.results, next: page.next, count: page.count };
      if (refetch >= MAX_REPEAT_REFETCH) {
        throw new AppError('provider_unavailable', `${LIST_CREDENTIALS}: page ${pageNo} keeps listing the rows of the page before it; stopping the scan (the next run resumes there)`);
      }
    }
  };

  for (;;) {
    let pageNo = startPage;
    let total: number | undefined;
    try {
      const pages = guardedPages(
        async (url: string) => {
          const page = await fetchPage(url);
          total = page.count;
          return page;
        },
        { first: credentialsPageUrl(ctx.config, startPage, pageSize), endpoint: LIST_CREDENTIALS },
      );
      for await (const { items, next } of pages) {
        ctx.signal.throwIfAborted();
        await learnTitles(session, items, titles, ctx.signal);
        const fresh = items.filter((c) => !handedOver.has(versionOf(c)));
        for (const c of fresh) handedOver.add(versionOf(c));
        const achievements: CatalogAchievement[] = [];
        for (const c of fresh) {
          const a = toCatalogAchievement(c, normalizeCtx);
          const key = `${a.type}\u0000${a.external_id}`;
          if (named.has(key)) continue;
          named.add(key);
          achievements.push(a);
        }
        if (items.length > 0) lastDigest = digest(items);
        const nextPage = next === null ? null : pageOf(next);
        const state: OpenedxCheckpoint = nextPage === null ? { v: 1, page: null, count: null, last: null } : { v: 1, page: nextPage, count: lastCount, last: lastDigest };
        yield {
          certificates: fresh.map((c) => toCertificate(c, normalizeCtx)),
          ...(achievements.length > 0 ? { achievements } : {}),
          checkpoint: { ...state },
          progress: { done: (pageNo - 1) * pageSize + items.length, ...(total === undefined ? {} : { total }) },
        };
        pageNo = nextPage ?? pageNo + 1;
      }
      return;
    } catch (err) {
      if (!(err instanceof Rewind)) throw err;
      if (err.gone && pageNo <= 1) throw new AppError('provider_error', `${LIST_CREDENTIALS} answered 404 for its first page: is base_url the Credentials service?`);
      if (rewinds >= MAX_REWINDS) throw new AppError('provider_error', `${LIST_CREDENTIALS}: pages keep vanishing during the scan (404 Invalid page); try again later`);
      // The engine's scan began before this rewind, so re-reading pages sweeps nothing this run sees.
      rewinds += 1;
      startPage = err.page;
      lastDigest = null;
    }
  }
}
