/** Open edX's pull: the credentials list page by page, with the titles of what they name, resuming from the saved page. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { AppError, describeError, isAppError } from '../../errors.ts';
import type { CatalogAchievement, Checkpoint, Page, PullContext, RunWarning } from '../provider.ts';
import { guardedPages } from '../http/index.ts';
import { courseRunTitles, createOpenedxSession, credentialsPageUrl, LIST_CREDENTIALS, lookupCredential, listCredentialsPage, programTitles, type OpenedxSession } from './client.ts';
import { toCatalogAchievement, toCertificate, type NormalizeContext } from './normalize.ts';
import { type Credential, type OpenedxConfig } from './schema.ts';

/**
 * The checkpoint saved with every page.
 * - `page`: the list page the scan continues from, when the scan is not finished; null on the last page of a
 *   scan, so the next pull begins a new full scan from page 1. A crash at any instant resumes at the page after
 *   the last one saved (the engine saves each page with its checkpoint in one transaction).
 * - `count`: the list's `count` when that page was read, and `last`: a digest of its uuids. They let the
 *   resumed run see that the list shrank meanwhile, or that a page came back stale (see `fetchPage`).
 * - `size`: the server's page size as its full pages showed it, for stepping back by pages.
 * When the scan started is NOT here: the engine keeps it across resumed runs and sweeps from it once a pull ends
 * without error (provider.ts, "Sweep semantics").
 */
export interface OpenedxCheckpoint {
  v: 1;
  page: number | null;
  count: number | null;
  last: string | null;
  /** Rows a page of this server holds, once a full page showed it (checkpoints from before lack it). */
  size?: number | null;
}

const checkpointSchema = z.object({
  v: z.literal(1),
  page: z.number().int().min(1).nullable(),
  count: z.number().int().nonnegative().nullable(),
  last: z.string().nullable(),
  size: z.number().int().min(1).nullish(),
});

/** The stored checkpoint, or null (a new scan) when there is none or it is not one of ours. */
export function readOpenedxCheckpoint(checkpoint: Checkpoint | null): OpenedxCheckpoint | null {
  const parsed = checkpointSchema.safeParse(checkpoint);
  return parsed.success ? parsed.data : null;
}

/** Go back to `page` and read on from there (the list shrank under the scan). */
class Rewind extends Error {
  constructor(readonly page: number) {
    super(`rewind to page ${page}`);
  }
}

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

/** The run's course-discovery catalog: titles learnt so far, and why it gives none when it does not. */
interface Catalog {
  titles: TitleCache;
  /** null while it answers; the reason once it failed (it is not asked again this run) or is not configured. */
  down: string | null;
}

/**
 * Asks the catalog for the programs and runs of `items` not yet named this run: at most one request each. A catalog
 * that fails (absent, 404, 5xx, refused, not discovery at all) is a degradation, not a failed sync: the run goes on
 * with untitled achievements and says so (warning `catalog_unavailable`).
 */
async function learnTitles(session: OpenedxSession, items: readonly Credential[], catalog: Catalog, signal: AbortSignal): Promise<RunWarning[]> {
  if (catalog.down !== null) return [];
  const { titles } = catalog;
  const programs = [...new Set(items.flatMap((c) => (c.credential.course_run_key ? [] : [(c.credential.program_uuid ?? '').toLowerCase()])))].filter((u) => u !== '' && !titles.programs.has(u));
  const runs = [...new Set(items.flatMap((c) => (c.credential.course_run_key ? [c.credential.course_run_key] : [])))].filter((k) => !titles.runs.has(k));
  try {
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
    return [];
  } catch (err) {
    if (signal.aborted || (isAppError(err) && err.code === 'cancelled')) throw err;
    catalog.down = describeError(err);
    return [{ code: 'catalog_unavailable', message: `the course-discovery catalog (catalog_url) did not answer, so titles are missing this run: ${catalog.down}` }];
  }
}

/** List pages a run may rewind (deletions racing the scan); then a shrinking list is read on as it is. */
const MAX_REWINDS = 5;
/** Times a page that repeats the previous one is asked again. */
const MAX_REPEAT_REFETCH = 4;
/**
 * Credentials the end of a scan looks up one by one (those stored but not listed this scan). More than that: the scan
 * ends without sweeping (at 15 requests a minute, 500 lookups already take half an hour).
 */
export const MAX_UNSEEN_LOOKUPS = 500;
/** Credentials a page of looked-up credentials carries. */
const LOOKUP_PAGE = 20;

/**
 * One full scan of the credentials list, resumable from any page's checkpoint.
 *
 * What the service guarantees (openedx/credentials: credentials/apps/api/v2/views.py, settings/base.py): DRF
 * PageNumberPagination with the server's PAGE_SIZE (20 by default; there is no page_size parameter), and a queryset
 * with NO ordering, so nothing says where a new credential appears or that two requests order rows alike. The scan
 * therefore takes pages as long as they come, and:
 * - watches `count`: when it drops (since the previous page, or since the page a crashed run saved), rows before the
 *   scan's position may have moved onto pages already read, so it steps back as many pages as rows vanished (in
 *   pages of the size the server showed) and reads on from there (rows already handed over are not handed over again);
 *   a page that no longer exists (404 "Invalid page.") sends it back to page 1;
 * - at the end, looks up one by one (`GET /api/v2/credentials/<uuid>/`) every stored credential the scan did not
 *   list (PullContext.unseen): a 404 is gone and swept, anything else is handed over and kept. So a row the
 *   unordered list hid from this scan is never swept while it exists. A credential created behind the scan's position
 *   is picked up by the next scan.
 */
export async function* pullOpenedxCredentials(ctx: PullContext<OpenedxConfig>, checkpoint: Checkpoint | null): AsyncGenerator<Page> {
  const previous = ctx.full ? null : readOpenedxCheckpoint(checkpoint);
  const resuming = previous !== null && previous.page !== null;
  const session = createOpenedxSession(ctx.http, ctx.config, () => ctx.now());
  const catalog: Catalog = {
    titles: { programs: new Map(), runs: new Map() },
    down: ctx.config.catalog_url === undefined ? 'no catalog_url is configured' : null,
  };
  const normalizeCtx: NormalizeContext = { titles: catalog.titles };
  // Dedupe within the run: a credential already handed over unchanged (a page served twice, rows shifted by a
  // deletion, a rewind). A changed one (`modified`) is handed over again: the engine keeps the last.
  const handedOver = new Set<string>();
  const listed = new Set<string>();
  const named = new Set<string>();
  let lastDigest = resuming ? previous.last : null;
  let lastCount = resuming ? previous.count : null;
  let pageSize = resuming ? (previous.size ?? null) : null;
  let startPage = resuming ? (previous.page ?? 1) : 1;
  let rewinds = 0;

  const warningsOf = (certs: readonly NormalizedCertificate[], achievements: readonly CatalogAchievement[]): RunWarning[] => {
    const out: RunWarning[] = [];
    const untitled = achievements.filter((a) => a.title === null).length;
    if (untitled > 0) {
      const why = ctx.config.catalog_url === undefined ? 'no catalog_url (the course-discovery service) is configured' : 'the course-discovery catalog did not name them';
      out.push({ code: 'untitled_achievements', message: `programs and course runs stored without a title: ${why}`, count: untitled });
    }
    const noFile = certs.filter((c) => !c.file.available).length;
    if (noFile > 0) out.push({ code: 'no_file', message: 'certificates without a PDF: Open edX gives no download_url for them (the field is gone since the Teak release)', count: noFile });
    return out;
  };

  /** The page to hand the engine: what is new this run, its catalog entries and its warnings. */
  const pageOfCredentials = (items: readonly Credential[], state: OpenedxCheckpoint, extra: RunWarning[]): Page => {
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
    const certificates = fresh.map((c) => toCertificate(c, normalizeCtx));
    const warnings = [...extra, ...warningsOf(certificates, achievements)];
    return {
      certificates,
      ...(achievements.length > 0 ? { achievements } : {}),
      checkpoint: { ...state },
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  };

  // GET <base_url>/api/v2/credentials/?page=N (the first URL), then each `next` link as given.
  const fetchPage = async (url: string): Promise<{ items: Credential[]; next: string | null; count: number | undefined }> => {
    const pageNo = pageOf(url) ?? 1;
    for (let refetch = 0; ; refetch++) {
      const page = await listCredentialsPage(session, url, ctx.signal);
      if (page === null) {
        if (pageNo <= 1) throw new AppError('provider_error', `${LIST_CREDENTIALS} answered 404 for its first page: is base_url the Credentials service?`);
        throw new Rewind(1);
      }
      // A page with a next one is full: its length is the server's page size.
      if (page.next !== null && page.results.length > 0) pageSize = Math.max(pageSize ?? 0, page.results.length);
      const shrunk = page.count !== undefined && lastCount !== null ? lastCount - page.count : 0;
      lastCount = page.count ?? lastCount;
      const size = pageSize ?? Math.max(1, page.results.length);
      if (shrunk > 0 && pageNo > 1 && rewinds < MAX_REWINDS) throw new Rewind(Math.max(1, pageNo - Math.ceil(shrunk / size)));
      // A page > 1 that lists exactly the rows of the page before it was served stale (the simulator's
      // repeat_page fault; a cache in front of the service could do the same): its own rows are missing, and a scan
      // that skipped them would miss them. Ask again; if it stays stale, fail the run rather than end a scan
      // known to be incomplete (the next run resumes at this page).
      const same = page.results.length > 0 && lastDigest !== null && digest(page.results) === lastDigest;
      if (!same) return { items: page.results, next: page.next, count: page.count };
      if (refetch >= MAX_REPEAT_REFETCH) {
        throw new AppError('provider_unavailable', `${LIST_CREDENTIALS}: page ${pageNo} keeps listing the rows of the page before it; stopping the scan (the next run resumes there)`);
      }
    }
  };

  const ended: OpenedxCheckpoint = { v: 1, page: null, count: null, last: null };
  scan: for (;;) {
    let total: number | undefined;
    try {
      const pages = guardedPages(
        async (url: string) => {
          const page = await fetchPage(url);
          total = page.count;
          return page;
        },
        { first: credentialsPageUrl(ctx.config, startPage), endpoint: LIST_CREDENTIALS },
      );
      for await (const { items, next } of pages) {
        ctx.signal.throwIfAborted();
        const catalogWarnings = await learnTitles(session, items, catalog, ctx.signal);
        for (const c of items) listed.add(c.uuid);
        if (items.length > 0) lastDigest = digest(items);
        const nextPage = next === null ? null : pageOf(next);
        const state: OpenedxCheckpoint = nextPage === null ? ended : { v: 1, page: nextPage, count: lastCount, last: lastDigest, size: pageSize };
        const page = pageOfCredentials(items, state, catalogWarnings);
        yield { ...page, progress: { done: listed.size, ...(total === undefined ? {} : { total }) } };
      }
      break scan;
    } catch (err) {
      if (!(err instanceof Rewind)) throw err;
      if (rewinds >= MAX_REWINDS) throw new AppError('provider_error', `${LIST_CREDENTIALS}: pages keep vanishing during the scan (404 Invalid page); try again later`);
      // The engine's scan began before this rewind, so re-reading pages sweeps nothing this run sees.
      rewinds += 1;
      startPage = err.page;
      lastDigest = null;
    }
  }

  // What the list did not show: looked up one by one, so that only what the service no longer has is swept.
  if (ctx.unseen === undefined) return;
  const unseen = (await ctx.unseen(MAX_UNSEEN_LOOKUPS + 1)).filter((uuid) => !listed.has(uuid));
  const lookups = unseen.slice(0, MAX_UNSEEN_LOOKUPS);
  let found: Credential[] = [];
  let recovered = 0;
  let unconfirmed: string | null = null;
  for (let i = 0; i < lookups.length; i++) {
    ctx.signal.throwIfAborted();
    const lookup = await lookupCredential(session, lookups[i] as string, ctx.signal);
    if (lookup.kind === 'found') {
      found.push(lookup.credential);
      recovered += 1;
    } else if (lookup.kind === 'unknown') {
      // No answer to go by: nothing is swept this scan, and the rest need not be asked.
      unconfirmed = lookup.reason;
      break;
    }
    const last = i === lookups.length - 1 || unconfirmed !== null;
    if (found.length >= LOOKUP_PAGE || (last && found.length > 0)) {
      const catalogWarnings = await learnTitles(session, found, catalog, ctx.signal);
      yield pageOfCredentials(found, ended, catalogWarnings);
      found = [];
    }
  }
  const warnings: RunWarning[] = [];
  if (recovered > 0) warnings.push({ code: 'unlisted_credentials', message: 'credentials the list did not show this scan (it has no order and changed meanwhile), found one by one and kept', count: recovered });
  const postpone = unconfirmed !== null || unseen.length > MAX_UNSEEN_LOOKUPS;
  if (unconfirmed !== null) {
    warnings.push({ code: 'sweep_postponed', message: `stored credentials the list did not show could not be looked up (${unconfirmed}); none is marked deleted until a scan confirms it` });
  } else if (unseen.length > MAX_UNSEEN_LOOKUPS) {
    warnings.push({ code: 'sweep_postponed', message: `more than ${MAX_UNSEEN_LOOKUPS} stored credentials were not listed this scan; none is marked deleted until a scan confirms it` });
  }
  if (warnings.length > 0) yield { certificates: [], checkpoint: { ...ended }, warnings, ...(postpone ? { sweep: false as const } : {}) };
}
