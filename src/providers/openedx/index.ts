/**
 * The Open edX connector: a full scan of `GET /api/v2/credentials/` through its `next` links (the API has no
 * changed-since filter), swept by the engine after a complete scan; revoked -> revoked. Titles come from the
 * course-discovery catalog, once per run for the programs and runs each page names.
 */
import { z } from 'zod';
import type { Checkpoint, Page, Provider, PullContext } from '../provider.ts';
import { guardedPages } from '../http/index.ts';
import { CREDENTIALS, courseRunTitles, createTokenSource, credentialsFirstPage, getCredentialsPage, programTitles } from './client.ts';
import { toAchievement, toCertificate, type Titles } from './normalize.ts';
import { openedxConfigSchema, type Credential, type OpenedxConfig } from './schema.ts';

export { createTokenSource, getCredentialsPage } from './client.ts';
export { toCertificate } from './normalize.ts';

/** `next`: the page a crashed scan resumes from; null: the next pull begins a new full scan. */
export interface OpenedxCheckpoint {
  v: 1;
  next: string | null;
}

const checkpointSchema = z.object({ v: z.literal(1), next: z.string().nullable() });

export function readOpenedxCheckpoint(checkpoint: Checkpoint | null): OpenedxCheckpoint | null {
  const parsed = checkpointSchema.safeParse(checkpoint);
  return parsed.success ? parsed.data : null;
}

export async function* pullOpenedxCredentials(ctx: PullContext<OpenedxConfig>, checkpoint: Checkpoint | null): AsyncGenerator<Page> {
  const tokens = createTokenSource(ctx.http, ctx.config, () => ctx.now());
  const resumeFrom = ctx.full ? null : readOpenedxCheckpoint(checkpoint)?.next ?? null;
  const titles: { programs: Map<string, string | null>; runs: Map<string, string | null> } = { programs: new Map(), runs: new Map() };
  let done = 0;
  const pages = guardedPages(
    async (url: string) => {
      const page = await getCredentialsPage(ctx.http, tokens, url, ctx.signal);
      return { items: page.results, next: page.next, count: page.count };
    },
    { first: resumeFrom ?? credentialsFirstPage(ctx.config), endpoint: CREDENTIALS },
  );
  let yielded = false;
  for await (const { items, next } of pages) {
    ctx.signal.throwIfAborted();
    await learnTitles(ctx, tokens, items, titles);
    const view: Titles = titles;
    done += items.length;
    const achievements = dedupe(items.map((c) => toAchievement(c, view)));
    yield { certificates: items.map((c) => toCertificate(c, view)), achievements, checkpoint: { v: 1, next } satisfies OpenedxCheckpoint, progress: { done } };
    yielded = true;
  }
  if (!yielded) yield { certificates: [], checkpoint: { v: 1, next: null } satisfies OpenedxCheckpoint };
}

async function learnTitles(ctx: PullContext<OpenedxConfig>, tokens: ReturnType<typeof createTokenSource>, items: Credential[], titles: { programs: Map<string, string | null>; runs: Map<string, string | null> }): Promise<void> {
  const programs = [...new Set(items.map((c) => c.credential.program_uuid?.toLowerCase()).filter((u): u is string => !!u && !titles.programs.has(u)))];
  const runs = [...new Set(items.map((c) => c.credential.course_run_key).filter((k): k is string => !!k && !titles.runs.has(k)))];
  if (programs.length > 0) {
    const found = await programTitles(ctx.http, tokens, ctx.config, programs, ctx.signal);
    for (const u of programs) titles.programs.set(u, found.get(u) ?? null);
  }
  if (runs.length > 0) {
    const found = await courseRunTitles(ctx.http, tokens, ctx.config, runs, ctx.signal);
    for (const k of runs) titles.runs.set(k, found.get(k) ?? null);
  }
}

function dedupe<T extends { type: string; external_id: string }>(items: T[]): T[] {
  const byKey = new Map<string, T>();
  for (const a of items) byKey.set(`${a.type}:${a.external_id}`, a);
  return [...byKey.values()];
}

export function createOpenedxProvider(): Provider<OpenedxConfig> {
  return {
    id: 'openedx',
    configSchema: openedxConfigSchema,
    completeness: 'full-scan',
    // The doc gives no number; certhub's sandbox LMS throttles at 120 requests a minute per client.
    rateLimit: { requests: 2, perSeconds: 1 },
    pull: pullOpenedxCredentials,
  };
}

export const openedxProvider: Provider<OpenedxConfig> = createOpenedxProvider();
