/**
 * Scale check, not part of the test suite: generate a world with ~250k FrontCore diplomas, report
 * the simulator's heap, then walk everything over HTTP the way a connector does (all participant
 * pages, then /v2/diplomas per user with a certificate).
 *
 *   node --expose-gc --import tsx src/simulators/frontcore/measure.ts [people=136000] [concurrency=16]
 */
import { generateWorld } from '../common/world.ts';
import { createFrontcoreSimulator } from './index.ts';

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heapMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

async function main(): Promise<void> {
  const people = Number(process.argv[2] ?? 136_000);
  const concurrency = Number(process.argv[3] ?? 16);
  const h0 = heapMb();
  let t = performance.now();
  const world = generateWorld({ seed: 'scale', people, asOf: '2026-06-01' });
  const worldMs = performance.now() - t;
  const h1 = heapMb();
  t = performance.now();
  const fc = createFrontcoreSimulator({ world, rateLimit: { limit: 1_000_000, windowMs: 1000 } });
  const genMs = performance.now() - t;
  const h2 = heapMb();
  const d = fc.data;
  console.log(`world: ${people} people, ${worldMs.toFixed(0)} ms, heap +${(h1 - h0).toFixed(1)} MB`);
  console.log(`frontcore: ${d.users.length} users, ${d.participants.length} participants, ${d.diplomas.length} diplomas; generated in ${genMs.toFixed(0)} ms; heap +${(h2 - h1).toFixed(1)} MB`);

  const base = await fc.sim.listen(0, '127.0.0.1');
  const headers = { 'X-API-Key': fc.apiKeys[0] };
  t = performance.now();
  const users = new Set<number>();
  let participants = 0;
  let pages = 0;
  for (let page = 1; ; page++) {
    const rows = (await (await fetch(`${base}/v2/participants?limit=250&page=${page}`, { headers })).json()) as { user_id: number; certificate_issued_at: string | null }[];
    pages++;
    participants += rows.length;
    for (const r of rows) if (r.certificate_issued_at !== null) users.add(r.user_id);
    if (rows.length < 250) break;
  }
  const participantsMs = performance.now() - t;
  console.log(`participants: ${participants} in ${pages} pages, ${(participantsMs / 1000).toFixed(1)} s (${(participants / (participantsMs / 1000)).toFixed(0)}/s)`);

  t = performance.now();
  const queue = [...users];
  let diplomas = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let u = queue.pop(); u !== undefined; u = queue.pop()) {
        const text = await (await fetch(`${base}/v2/diplomas?user_id=${u}`, { headers })).text();
        bytes += text.length;
        diplomas += (JSON.parse(text) as { items: unknown[] }).items.length;
      }
    }),
  );
  const diplomasMs = performance.now() - t;
  console.log(`diplomas: ${diplomas} via ${users.size} requests (concurrency ${concurrency}), ${(diplomasMs / 1000).toFixed(1)} s (${(diplomas / (diplomasMs / 1000)).toFixed(0)}/s, ${(bytes / 1024 / 1024).toFixed(0)} MB JSON)`);
  console.log(`heap after the walk: +${(heapMb() - h1).toFixed(1)} MB over the world`);
  t = performance.now();
  const truth = fc.truth();
  console.log(`truth(): ${truth.length} certificates in ${(performance.now() - t).toFixed(0)} ms`);
  await fc.sim.close();
}

void main();
