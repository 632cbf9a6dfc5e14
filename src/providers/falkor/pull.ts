/** Falkor's pull: one POST lists everything; pages of it are saved with a checkpoint that resumes the scan (provider.ts, sweep semantics). */
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import type { CatalogAchievement, Checkpoint, Page, PullContext } from '../provider.ts';
import { z } from 'zod';
import { postStoryCertificates } from './client.ts';
import { storyAchievementId, toCertificate, toStoryAchievement } from './normalize.ts';
import { type FalkorConfig, type Story, type StoryCertificateItem, type StoryCertificatesResponse } from './schema.ts';

/** Certificates per page: the single answer is handed to the engine in chunks of this many. */
export const FALKOR_PAGE_SIZE = 500;

/**
 * The checkpoint stored with every page:
 * - `hash`: the answer hash of the last COMPLETE scan (null: none). When the next answer carries the same
 *   hash, nothing changed: the run yields one `unchanged` page and the engine neither re-saves nor sweeps.
 * - `scan` (only on pages before the last one of a run): the hash of the answer being saved and how many of its
 *   certificates (in answer order) are saved. A crashed run resumes after them if the answer is still the same
 *   (same hash), otherwise it saves the new answer from the start; either way the engine's scan, which spans the
 *   resumed runs, has seen everything before it sweeps. A scan in progress never counts as `unchanged`.
 * The last page of a run carries no `scan`, so the next pull begins a new full scan.
 */
export interface FalkorCheckpoint {
  v: 1;
  hash: string | null;
  scan?: { hash: string | null; done: number };
}

const checkpointSchema = z.object({
  v: z.literal(1),
  hash: z.string().nullable(),
  scan: z.object({ hash: z.string().nullable(), done: z.number().int().nonnegative() }).optional(),
});

/** The stored checkpoint, or null (start afresh) when there is none or it is not one of ours. */
export function readFalkorCheckpoint(checkpoint: Checkpoint | null): FalkorCheckpoint | null {
  const parsed = checkpointSchema.safeParse(checkpoint);
  return parsed.success ? parsed.data : null;
}

interface Listed {
  story: Story;
  item: StoryCertificateItem;
}

/** Story blocks -> one list in answer order; a permalink listed twice is one certificate (first listing kept). */
function listCertificates(res: StoryCertificatesResponse): Listed[] {
  const seen = new Set<string>();
  const out: Listed[] = [];
  for (const block of res.data) {
    for (const item of block.certificates) {
      if (seen.has(item.certificate.url)) continue;
      seen.add(item.certificate.url);
      out.push({ story: block.story, item });
    }
  }
  return out;
}

/** Each story of the answer once (stories without certificates too). */
function listAchievements(res: StoryCertificatesResponse): CatalogAchievement[] {
  const byId = new Map<string, CatalogAchievement>();
  for (const block of res.data) byId.set(storyAchievementId(block.story), toStoryAchievement(block.story));
  return [...byId.values()];
}

export async function* pullFalkorCertificates(
  ctx: PullContext<FalkorConfig>,
  checkpoint: Checkpoint | null,
  pageSize: number = FALKOR_PAGE_SIZE,
): AsyncGenerator<Page> {
  const previous = ctx.full ? null : readFalkorCheckpoint(checkpoint);
  const res = await postStoryCertificates(ctx.http, ctx.config, {}, ctx.signal);
  const hash = res.hash ?? null;

  if (previous !== null && previous.scan === undefined && previous.hash !== null && hash === previous.hash) {
    yield { certificates: [], unchanged: true, checkpoint: { v: 1, hash } satisfies FalkorCheckpoint };
    return;
  }

  const listed = listCertificates(res);
  const total = listed.length;
  const resumable = previous?.scan !== undefined && hash !== null && previous.scan.hash === hash;
  const start = resumable ? Math.min(previous.scan?.done ?? 0, total) : 0;
  const lastCompleteHash = previous?.hash ?? null;
  const achievements = listAchievements(res);

  let first = true;
  let from = start;
  do {
    ctx.signal.throwIfAborted();
    const to = Math.min(from + pageSize, total);
    const certificates: NormalizedCertificate[] = listed.slice(from, to).map(({ story, item }) => toCertificate(item, { story }));
    const done = to === total;
    const next: FalkorCheckpoint = done ? { v: 1, hash } : { v: 1, hash: lastCompleteHash, scan: { hash, done: to } };
    yield { certificates, ...(first ? { achievements } : {}), checkpoint: { ...next }, progress: { done: to, total } };
    first = false;
    from = to;
  } while (from < total);
}
