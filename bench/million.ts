/** What the benchmarks at a million certificates share: the store (a SQLite file, loaded fast) and best-of timing. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestHub, type TestHub } from '../src/api/app.testkit.ts';
import { loadFixture } from '../src/compliance/bulk-fixture.testkit.ts';
import { createStore } from '../src/store/index.ts';

/** The fastest of `rounds` runs, in ms. */
export async function best(rounds: number, run: () => unknown): Promise<number> {
  let fastest = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return fastest;
}

/**
 * A hub over a SQLite file holding `people` x 10 certificates of tenant `a` (src/compliance/bulk-fixture.testkit.ts), handed to
 * `work`; the file is removed afterwards.
 */
export async function withMillionStore(
  name: string,
  people: number,
  now: Date,
  work: (hub: TestHub, file: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `certhub-bench-${name}-`));
  const file = join(dir, 'hub.db');
  const secretKey = randomBytes(32);
  try {
    const store = await createStore({ url: `sqlite:${file}`, secretKey });
    // The benchmarks time the API, not the test kit's check of each answer against its schema.
    const hub = await createTestHub({ store, now: () => now }, { checkAnswers: false });
    try {
      const loaded = await loadFixture({ file, secretKey, tenantId: hub.a.id, sourceId: hub.a.source.id, sourceSlug: hub.a.source.slug }, people, now);
      console.log(`store: ${people} people, ${loaded.certificates} certificates, loaded in ${(loaded.ms / 1000).toFixed(1)} s`);
      await work(hub, file);
    } finally {
      await hub.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
