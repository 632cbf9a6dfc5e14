/** Springest's pull: certificates created since the last run, and once a day everything (a full scan the engine sweeps). */
import { z } from 'zod';
import type { Checkpoint, Page, PullContext } from '../provider.ts';
import { listCertificates, listCertifications } from './client.ts';
import { toCertificate, toCertificationAchievement } from './normalize.ts';
import { type SpringestCertificate, type SpringestConfig } from './schema.ts';

export const SPRINGEST_PAGE_SIZE = 1000;
/** How often a run re-reads everything (to see changes and deletions) and refreshes the certification catalog. */
export const SPRINGEST_FULL_EVERY_MS = 24 * 3600_000;

/**
 * `max_created_at`: the newest created_at stored (ISO); `full_at` / `catalog_at`: when the last complete read and
 * catalog refresh happened. Pages before the last of a run carry the previous checkpoint, so a crash repeats the
 * same request.
 */
export interface SpringestCheckpoint {
  v: 1;
  max_created_at: string | null;
  full_at: string | null;
  catalog_at: string | null;
}

const checkpointSchema = z.object({ v: z.literal(1), max_created_at: z.string().nullable(), full_at: z.string().nullable(), catalog_at: z.string().nullable() });

export function readSpringestCheckpoint(checkpoint: Checkpoint | null): SpringestCheckpoint | null {
  const parsed = checkpointSchema.safeParse(checkpoint);
  return parsed.success ? parsed.data : null;
}

const older = (iso: string | null, now: Date, ms: number): boolean => iso === null || now.getTime() - Date.parse(iso) >= ms;

/** created_from for an incremental read: the UTC date of the newest certificate seen, minus one day. */
export function createdFrom(maxCreatedAt: string): string {
  return new Date(Date.parse(maxCreatedAt) - 86_400_000).toISOString().slice(0, 10);
}

export async function* pullSpringestCertificates(ctx: PullContext<SpringestConfig>, checkpoint: Checkpoint | null, pageSize = SPRINGEST_PAGE_SIZE): AsyncGenerator<Page> {
  const now = ctx.now();
  const previous = ctx.full ? null : readSpringestCheckpoint(checkpoint);
  const full = previous === null || older(previous.full_at, now, SPRINGEST_FULL_EVERY_MS);
  const since = full ? null : (previous.max_created_at ?? previous.full_at);

  const refreshCatalog = ctx.config.certifications_api_key !== undefined && (full || older(previous.catalog_at, now, SPRINGEST_FULL_EVERY_MS));
  const achievements = refreshCatalog
    ? (await listCertifications(ctx.http, { ...ctx.config, certifications_api_key: ctx.config.certifications_api_key ?? '' }, ctx.signal)).map(toCertificationAchievement)
    : [];

  const fetched = await listCertificates(ctx.http, ctx.config, since === null ? {} : { created_from: createdFrom(since) }, ctx.signal);
  const byId = new Map<string, SpringestCertificate>();
  for (const c of fetched) byId.set(String(c.id), c);
  const certificates = [...byId.values()];

  let maxCreated = previous?.max_created_at ?? null;
  for (const c of certificates) {
    const t = Date.parse(c.created_at);
    if (!Number.isNaN(t) && (maxCreated === null || t > Date.parse(maxCreated))) maxCreated = new Date(t).toISOString();
  }
  const stamp = now.toISOString();
  const final: SpringestCheckpoint = {
    v: 1,
    max_created_at: maxCreated,
    full_at: full ? stamp : (previous?.full_at ?? null),
    catalog_at: refreshCatalog ? stamp : (previous?.catalog_at ?? null),
  };
  const unchangedCheckpoint = previous ?? null;

  let from = 0;
  do {
    ctx.signal.throwIfAborted();
    const to = Math.min(from + pageSize, certificates.length);
    const last = to >= certificates.length;
    yield {
      certificates: certificates.slice(from, to).map(toCertificate),
      ...(from === 0 && achievements.length > 0 ? { achievements } : {}),
      checkpoint: last || unchangedCheckpoint === null ? { ...final } : { ...unchangedCheckpoint },
      progress: { done: to, total: certificates.length },
      ...(full ? { fullScan: true } : {}),
    };
    from = to;
  } while (from < certificates.length);
}
