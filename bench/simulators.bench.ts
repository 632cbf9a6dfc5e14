/**
 * Simulators at scale (issue: "1 million certificates must fit in well under 2 GB and be served fast
 * enough never to be the bottleneck of a sync"). Builds a seeded world sized for about a million
 * certificates across the four simulators, reports the heap they take, then pages through each
 * provider's main list endpoint over loopback and compares the request rate with a bare node:http
 * server answering a same-sized body, measured in the same run.
 *
 *   npm run bench simulators            # ~210,000 people, ~1,000,000 certificates
 *   BENCH_PEOPLE=50000 npm run bench simulators
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateWorld } from '../src/simulators/common/world.ts';
import { createFrontcoreSimulator } from '../src/simulators/frontcore/index.ts';
import { createFalkorSimulator } from '../src/simulators/falkor/index.ts';
import { createOpenedxSimulator } from '../src/simulators/openedx/index.ts';
import { createSpringestSimulator } from '../src/simulators/springest/index.ts';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 210_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heapMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

/** Sequential requests (as a paced sync sends them) for `count` URLs; requests per second. */
async function rate(urls: () => string, count: number, init?: RequestInit): Promise<{ perSecond: number; bytes: number }> {
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const res = await fetch(urls(), init);
    bytes += (await res.arrayBuffer()).byteLength;
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${urls()}`);
  }
  return { perSecond: count / ((performance.now() - t0) / 1000), bytes: bytes / count };
}

async function baseline(bodyBytes: number, count: number): Promise<number> {
  const body = Buffer.alloc(Math.max(2, Math.round(bodyBytes)), 'x');
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const { perSecond } = await rate(() => url, count);
  await new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return perSecond;
}

async function main(): Promise<void> {
  const h0 = heapMb();
  let t = performance.now();
  const world = generateWorld({ seed: 'bench', people: PEOPLE, asOf: '2026-06-01' });
  const worldMs = performance.now() - t;
  const h1 = heapMb();
  t = performance.now();
  const fc = createFrontcoreSimulator({ world, rateLimit: { limit: 1e9, windowMs: 1000 } });
  const fk = createFalkorSimulator({ world });
  const oe = createOpenedxSimulator({ world, throttle: false });
  const sp = createSpringestSimulator({ world, limits: { requestsPerHour: 1e9 } });
  const genMs = performance.now() - t;
  const h2 = heapMb();
  const counts = { frontcore: fc.truth().length, falkor: fk.truth().length, openedx: oe.truth().length, springest: sp.truth().length };
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`world: ${PEOPLE} people in ${worldMs.toFixed(0)} ms, heap +${(h1 - h0).toFixed(0)} MB`);
  console.log(`simulators: ${total} certificates (${JSON.stringify(counts)}) generated in ${genMs.toFixed(0)} ms, heap +${(h2 - h1).toFixed(0)} MB`);
  console.log(`heap in all: ${(h2 - h0).toFixed(0)} MB for ${total} certificates = ${(((h2 - h0) * 1024 * 1024) / total).toFixed(0)} bytes per certificate (target: well under 2048 MB per million)`);

  const [fcUrl, , oeUrl] = await Promise.all([fc.sim.listen(0), fk.sim.listen(0), oe.sim.listen(0), sp.sim.listen(0)]);
  const client = oe.clients[0];
  const token = (
    (await (
      await fetch(`${oeUrl}/oauth2/access_token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client?.clientId ?? '', client_secret: client?.clientSecret ?? '', token_type: 'jwt' }) })
    ).json()) as { access_token: string }
  ).access_token;

  let page = 0;
  const runs: { name: string; urls: () => string; init: RequestInit }[] = [
    { name: 'FrontCore GET /v2/participants (limit 250)', urls: () => `${fcUrl}/v2/participants?limit=250&page=${(page++ % 200) + 1}`, init: { headers: { 'X-API-Key': fc.apiKeys[0] } } },
    // The service's own page size (20); it has no page_size parameter.
    { name: 'Open edX GET /api/v2/credentials/ (20 a page)', urls: () => `${oeUrl}/api/v2/credentials/?page=${(page++ % 200) + 1}`, init: { headers: { authorization: `JWT ${token}` } } },
  ];
  for (const r of runs) {
    page = 0;
    const sim = await rate(r.urls, REQUESTS, r.init);
    const base = await baseline(sim.bytes, REQUESTS);
    console.log(`${r.name}: ${sim.perSecond.toFixed(0)} req/s (${(sim.bytes / 1024).toFixed(0)} KiB each); bare node:http same size: ${base.toFixed(0)} req/s; ratio ${(sim.perSecond / base).toFixed(2)}`);
  }
  // One-response providers: the whole account / host in one answer.
  const fkAccount = fk.accounts[0];
  t = performance.now();
  const whole = await fetch(`${fk.sim.url()}/${fkAccount?.name}/api/v1/logs/story-certificates`, { method: 'POST', headers: { authorization: `Basic ${fkAccount?.token}` }, body: '{}' });
  const fkBytes = (await whole.arrayBuffer()).byteLength;
  console.log(`Falkor whole account (${fkAccount?.certificates.length} certificates, ${(fkBytes / 1024 / 1024).toFixed(1)} MiB): ${(performance.now() - t).toFixed(0)} ms`);
  t = performance.now();
  const spAll = await fetch(`${sp.sim.url()}/users/certificates?api_key=${sp.host.apiKey}`);
  const spBytes = (await spAll.arrayBuffer()).byteLength;
  console.log(`Springest all certificates (${counts.springest}, ${(spBytes / 1024 / 1024).toFixed(1)} MiB): ${(performance.now() - t).toFixed(0)} ms`);
  console.log('documented provider limits for comparison: FrontCore 5 req/s per account, Springest ~1.1 req/s (4000/h)');
  await Promise.all([fc.sim.close(), fk.sim.close(), oe.sim.close(), sp.sim.close()]);
}

await main();
