/**
 * Scale check, not part of the test suite: generate a world with ~250k Open edX credentials, report
 * the simulator's heap, then walk every page of `GET /api/v2/credentials/?page_size=100` over HTTP
 * following `next`, as the connector does (throttle off).
 *
 *   node --expose-gc --import tsx src/simulators/openedx/measure.ts [people=218000]
 */
import { generateWorld } from '../common/world.ts';
import { createOpenedxSimulator } from './index.ts';

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heapMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

async function main(): Promise<void> {
  const people = Number(process.argv[2] ?? 218_000);
  const h0 = heapMb();
  let t = performance.now();
  const world = generateWorld({ seed: 'scale', people, asOf: '2026-06-01' });
  const worldMs = performance.now() - t;
  const h1 = heapMb();
  t = performance.now();
  const oe = createOpenedxSimulator({ world, throttle: false });
  const genMs = performance.now() - t;
  const h2 = heapMb();
  const d = oe.data;
  console.log(`world: ${people} people, ${worldMs.toFixed(0)} ms, heap +${(h1 - h0).toFixed(1)} MB`);
  console.log(`openedx: ${d.users.username.length} LMS users, ${d.credentials.live.length} credentials; generated in ${genMs.toFixed(0)} ms; heap +${(h2 - h1).toFixed(1)} MB`);

  const base = await oe.sim.listen(0, '127.0.0.1');
  const c = oe.clients[0];
  const tokenRes = await fetch(`${base}/oauth2/access_token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c?.clientId ?? '', client_secret: c?.clientSecret ?? '', token_type: 'jwt' }),
  });
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const headers = { authorization: `JWT ${token}` };
  t = performance.now();
  let items = 0;
  let pages = 0;
  let bytes = 0;
  for (let next: string | null = `${base}/api/v2/credentials/?page_size=100`; next !== null; ) {
    const text = await (await fetch(next, { headers })).text();
    bytes += text.length;
    const page = JSON.parse(text) as { next: string | null; results: unknown[] };
    items += page.results.length;
    pages++;
    next = page.next;
  }
  const walkMs = performance.now() - t;
  console.log(`walk: ${items} credentials in ${pages} pages, ${(walkMs / 1000).toFixed(1)} s (${(items / (walkMs / 1000)).toFixed(0)}/s, ${(bytes / 1024 / 1024).toFixed(0)} MB JSON)`);
  console.log(`heap after the walk: +${(heapMb() - h1).toFixed(1)} MB over the world`);
  t = performance.now();
  const truth = oe.truth();
  console.log(`truth(): ${truth.length} certificates in ${(performance.now() - t).toFixed(0)} ms`);
  await oe.sim.close();
}

void main();
