/**
 * Pushes (issue 16), in real time: the wall clock drives the workers, the simulators and the measurements alike.
 *
 * - Springest pacing: BENCH_PUSHES certificates queued by one savePage (PDFs archived) to a Springest simulator with
 *   its real limit (30 posts a minute per key; a 31st within 60 s is answered 400), the source's own rate_limit out
 *   of the way (100/s), two push workers running their real loop (`start()`) on one SQLite store. Every request goes
 *   through a recording proxy: the posts' span, their rate against Springest's 30 a minute, the most in any 60 s
 *   window and the 400s come from its log. The issue's run is BENCH_PUSHES=90: about three minutes.
 * - Open edX throughput: BENCH_OPENEDX pushes drained by one worker (runOnce until nothing is due, batch 10) to an
 *   Open edX simulator (staff client, throttle off, the source's rate_limit at the 100/s config allows), against a
 *   bare undici loop of as many POST /api/v2/credentials/ with one token, bodies of the same shape (other usernames,
 *   so both sides create) and 10 in flight, best of BENCH_ROUNDS, measured in the same run. SQLite always; PostgreSQL too when
 *   CERTHUB_BENCH_PG_URL / CERTHUB_TEST_PG_URL (or the tests' default) answers, in a fresh schema dropped afterwards.
 *
 * Exits 1 when a push does not end `pushed`, when Springest answers a post with 400, or a baseline call is refused.
 *
 *   npm run bench push
 *   BENCH_PUSHES=90 BENCH_OPENEDX=2000 BENCH_ROUNDS=5 npm run bench push
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { Agent, request } from 'undici';
import { applyConfiguredSources } from '../src/config/apply.ts';
import type { Config, SourceConfig } from '../src/config/index.ts';
import { parseSource } from '../src/contract/harness.testkit.ts';
import { startRecordingProxy } from '../src/contract/recording-proxy.testkit.ts';
import { createPersonResolver } from '../src/identity/resolver.ts';
import { createPushWorker } from '../src/outbound/push-worker.ts';
import { resolvePushRule } from '../src/outbound/push-rules.ts';
import { createSourceConnector } from '../src/providers/connector.ts';
import { ALLOW_PRIVATE_EGRESS } from '../src/providers/http/egress.ts';
import { SPRINGEST_POST_INTERVAL_MS } from '../src/providers/springest/push.ts';
import { makeCertificatePdf } from '../src/simulators/common/pdf.ts';
import { defaultSandboxAsOf, generateWorld } from '../src/simulators/common/world.ts';
import { PERMISSIONS } from '../src/simulators/openedx/access.ts';
import { createOpenedxSimulator } from '../src/simulators/openedx/index.ts';
import { createSpringestSimulator } from '../src/simulators/springest/index.ts';
import { describePostgresUrl } from '../src/store/connect.ts';
import { databaseOf } from '../src/store/database.testkit.ts';
import { createStore, type Source, type Store, type Tenant } from '../src/store/index.ts';
import { sampleCertificate } from '../src/store/sample-certificate.testkit.ts';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 30);
const OPENEDX = Number(process.env.BENCH_OPENEDX ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The push worker's default batch: the baseline keeps as many requests in flight. */
const IN_FLIGHT = 10;
const PAGE = 500;
/** "a limit of POSTing max 30 certificates per minute" (springest-certificates.txt). */
const SPRINGEST_PER_MINUTE = 30;
const FAST = { requests: 100, per_seconds: 1 };
const PG_URL = process.env.CERTHUB_BENCH_PG_URL ?? process.env.CERTHUB_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const label = (what: string) => what.padEnd(44);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en');
const ratio = (r: number) => (r >= 0.1 ? r.toFixed(2) : r.toPrecision(2));

interface Failures {
  problems: string[];
}

interface Hub {
  tenant: Tenant;
  fc: Source;
}

/** The store migrated, with `target` and a FrontCore origin `fc` the certificates are saved under (never called). */
async function hubWith(store: Store, target: SourceConfig): Promise<Hub> {
  await store.migrate();
  const origin = parseSource({ id: 'fc', provider: 'frontcore', base_url: 'http://127.0.0.1:9', api_key: 'unused' });
  await applyConfiguredSources(store, { sources: [origin, target] } as Config);
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  return { tenant, fc: (await store.sources.getSourceBySlug(tenant.id, 'fc'))! };
}

async function saveCertificates(store: Store, hub: Hub, count: number): Promise<void> {
  const resolvePeople = createPersonResolver();
  for (let done = 0; done < count; done += PAGE) {
    const page = Array.from({ length: Math.min(PAGE, count - done) }, (_, k) => sampleCertificate(done + k));
    await store.certificates.savePage(hub.fc.id, page, null, { now: new Date(), resolvePeople });
  }
}

async function pushStates(store: Store): Promise<Record<string, number>> {
  const rows = await databaseOf(store)
    .selectFrom('pushes')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

const stepCounter = () => {
  const steps: Record<string, number> = {};
  return { steps, onStep: (kind: string) => void (steps[kind] = (steps[kind] ?? 0) + 1) };
};
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The most of ascending `at` (ms) that fall in any window of `windowMs` (each window starting at one of them). */
function mostInWindow(at: readonly number[], windowMs: number): number {
  let most = 0;
  let end = 0;
  for (let i = 0; i < at.length; i++) {
    while (end < at.length && at[end]! < at[i]! + windowMs) end++;
    most = Math.max(most, end - i);
  }
  return most;
}

async function benchSpringest(failures: Failures): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'certhub-bench-push-'));
  const sp = createSpringestSimulator({ world: generateWorld({ seed: 'bench-push', people: 20, asOf: defaultSandboxAsOf(new Date()) }), limits: { requestsPerHour: 100_000 } });
  const proxy = await startRecordingProxy(await sp.sim.listen(0, '127.0.0.1'), () => new Date());
  const store = await createStore({ url: `sqlite:${join(dir, 'hub.db')}`, secretKey: randomBytes(32) });
  const workers: ReturnType<typeof createPushWorker>[] = [];
  try {
    const hub = await hubWith(store, parseSource({ ...sp.sourceConfigs()[0], id: 'sp', base_url: proxy.url, rate_limit: FAST }));
    const certification = sp.host.certifications.find((c) => c.verified && !c.requires_valid_until);
    if (certification === undefined) throw new Error('the Springest simulator has no verified certification without valid_until');
    const rule = { name: 'bench', match: { achievement: { source: 'fc', external_id: 'SAFE-101' } }, target_source: 'sp', target: { certification_id: certification.id } };
    await store.pushes.createRule(hub.tenant.id, await resolvePushRule(store, hub.tenant.id, rule));
    await saveCertificates(store, hub, PUSHES);
    // Archived PDFs: the posts take them from the archive (the origin is never called).
    const pdf = await store.files.putBlob(makeCertificatePdf(['Safety Training']), 'application/pdf');
    for (const c of (await store.certificates.listCertificates(hub.tenant.id, {}, { limit: 1000 })).items) await store.files.setCertificateFile(hub.tenant.id, c.id, pdf);

    console.log(
      `springest: ${PUSHES} pushes queued by one savePage, 2 workers (start()) on one SQLite store; certhub paces a key at ${SPRINGEST_POST_INTERVAL_MS} ms a post, Springest refuses a 31st post in 60 s`,
    );
    const { steps, onStep } = stepCounter();
    const connector = createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS });
    workers.push(...[0, 1].map(() => createPushWorker({ store, connector, onStep })));
    const t0 = performance.now();
    for (const w of workers) w.start();
    const deadline = t0 + PUSHES * SPRINGEST_POST_INTERVAL_MS + 120_000;
    let states = await pushStates(store);
    while ((states.pushed ?? 0) + (states.failed ?? 0) < PUSHES && performance.now() < deadline) {
      await delay(250);
      states = await pushStates(store);
    }
    const doneMs = performance.now() - t0;
    await Promise.all(workers.map((w) => w.stop()));

    const posts = proxy.log.filter((e) => e.method === 'POST');
    const at = posts.map((p) => p.at).sort((a, b) => a - b);
    const spanMs = at.length > 1 ? at.at(-1)! - at[0]! : NaN;
    const perMinute = (at.length - 1) / (spanMs / 60_000);
    const refused = posts.filter((p) => p.status === 400).length;
    const others = posts.filter((p) => p.status !== 201 && p.status !== 400).length;
    const gets = proxy.log.filter((e) => e.method === 'GET').length;
    console.log(
      `${label('posts, first to last')}${seconds(spanMs)} for ${posts.length} posts: ${perMinute.toFixed(1)} a minute, ${(perMinute / SPRINGEST_PER_MINUTE).toFixed(2)}x Springest's ${SPRINGEST_PER_MINUTE}`,
    );
    console.log(`${label('most posts in any 60 s')}${mostInWindow(at, 60_000)} (Springest allows ${SPRINGEST_PER_MINUTE})`);
    console.log(`${label('400 answers')}${refused}${others > 0 ? ` (and ${others} other non-201 answers)` : ''}`);
    // A push takes two steps (the post, then the look that finds it); the others were claims that found the slot taken.
    const slotWaits = total(steps) - 2 * (states.pushed ?? 0);
    console.log(`${label('pushes, start() to all ended')}${seconds(doneMs)}: ${JSON.stringify(states)}; ${gets} GETs (verification looks)`);
    console.log(
      `${label('worker steps')}${total(steps)} (${Object.entries(steps).map(([k, n]) => `${k} ${n}`).join(', ')}), ${(total(steps) / PUSHES).toFixed(1)} a push; ` +
        `${slotWaits} of them claims that found the posting slot taken`,
    );
    if (refused > 0) failures.problems.push(`springest: ${refused} posts answered 400 (too many posts in a minute)`);
    if ((states.pushed ?? 0) !== PUSHES) failures.problems.push(`springest: pushes ended ${JSON.stringify(states)}, not all ${PUSHES} pushed`);
    if (posts.length !== PUSHES) failures.problems.push(`springest: ${posts.length} posts for ${PUSHES} pushes`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await store.close();
    await proxy.close();
    await sp.sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** POSTs every body with `IN_FLIGHT` in flight; the number answered other than 201. */
async function postAll(url: string, token: string, bodies: readonly string[], agent: Agent): Promise<number> {
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const res = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', authorization: `JWT ${token}`, 'user-agent': 'certhub-bench/1' },
          body,
        });
        await res.body.text();
        if (res.statusCode !== 201) refused++;
      }
    }),
  );
  return refused;
}

async function benchOpenedx(dialect: string, store: Store, failures: Failures): Promise<void> {
  const oe = createOpenedxSimulator({
    world: generateWorld({ seed: 'bench-push-oe', people: 20, asOf: defaultSandboxAsOf(new Date()) }),
    throttle: false,
    clients: [{ staff: true, permissions: PERMISSIONS }],
  });
  const base = await oe.sim.listen(0, '127.0.0.1');
  try {
    const config = parseSource({ ...oe.sourceConfigs()[0], id: 'oe', rate_limit: FAST });
    const hub = await hubWith(store, config);
    const program = oe.data.catalog.programs[0]!.uuid;
    // Usernames no one in the simulator's world has: every push creates (as the baseline's do).
    const usernames = Object.fromEntries(Array.from({ length: OPENEDX }, (_, i) => [`person${i}@example.com`, `bench-w-${i}`]));
    const rule = { name: 'bench', match: { achievement: { source: 'fc', external_id: 'SAFE-101' } }, target_source: 'oe', target: { program_uuid: program }, usernames };
    await store.pushes.createRule(hub.tenant.id, await resolvePushRule(store, hub.tenant.id, rule));
    await saveCertificates(store, hub, OPENEDX);

    // Baseline: one token, then the creates the worker sends (same shape, other usernames), IN_FLIGHT at a time.
    const client = oe.clients[0]!;
    const tokenRes = await fetch(`${base}/oauth2/access_token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, token_type: 'jwt' }),
    });
    const token = ((await tokenRes.json()) as { access_token: string }).access_token;
    const body = (username: string) => JSON.stringify({ username, credential: { program_uuid: program }, status: 'awarded' });
    const url = `${base}/api/v2/credentials/`;
    const agent = new Agent();
    await postAll(url, token, Array.from({ length: 200 }, (_, i) => body(`bench-x-${i}`)), agent);
    let baselineMs = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      const t = performance.now();
      const refused = await postAll(url, token, Array.from({ length: OPENEDX }, (_, i) => body(`bench-b${round}-${i}`)), agent);
      baselineMs = Math.min(baselineMs, performance.now() - t);
      if (refused > 0) failures.problems.push(`${dialect}: open edx baseline round ${round + 1}: ${refused}/${OPENEDX} creates not answered 201`);
    }
    await agent.close();

    oe.sim.counters.reset();
    const { steps, onStep } = stepCounter();
    const worker = createPushWorker({ store, connector: createSourceConnector({ store, outbound: ALLOW_PRIVATE_EGRESS }), batch: IN_FLIGHT, onStep });
    let passes = 0;
    const t0 = performance.now();
    while ((await worker.runOnce()) > 0) passes++;
    const drainMs = performance.now() - t0;
    await worker.stop();
    const states = await pushStates(store);
    const requests = oe.sim.counters.snapshot().requests_by_endpoint;

    console.log(`${label(`${dialect.padEnd(8)} baseline POST loop, ${IN_FLIGHT} in flight`)}${rate(OPENEDX, baselineMs).padStart(6)} req/s (best of ${ROUNDS})`);
    console.log(
      `${label(`${dialect.padEnd(8)} worker (runOnce x ${passes}, batch ${IN_FLIGHT})`)}${rate(OPENEDX, drainMs).padStart(6)} pushes/s  ${ratio(baselineMs / drainMs)}x baseline  ` +
        `(${JSON.stringify(states)}; requests ${JSON.stringify(requests)}; ${total(steps)} steps)`,
    );
    if ((states.pushed ?? 0) !== OPENEDX) failures.problems.push(`${dialect}: open edx: pushes ended ${JSON.stringify(states)}, not all ${OPENEDX} pushed`);
  } finally {
    await oe.sim.close();
  }
}

async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || String((err as NodeJS.ErrnoException).code) : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const failures: Failures = { problems: [] };
  await benchSpringest(failures);

  console.log(
    `\nopen edx: ${OPENEDX} pushes of a program credential (POST /api/v2/credentials/, an upsert), staff client, throttle off, source rate_limit ${FAST.requests}/s (the limit counts token and create requests alike; one token per batch)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'certhub-bench-push-oe-'));
  try {
    const store = await createStore({ url: `sqlite:${join(dir, 'hub.db')}`, secretKey: randomBytes(32) });
    try {
      await benchOpenedx('sqlite', store, failures);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pgProblem = await probePostgres(PG_URL);
  if (pgProblem !== null) {
    console.log(`postgres skipped: unreachable at ${describePostgresUrl(PG_URL)} (${pgProblem}); set CERTHUB_BENCH_PG_URL`);
  } else {
    const schema = `certhub_bench_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create schema ${schema}`);
    try {
      const store = await createStore({ url: PG_URL, pgSchema: schema, secretKey: randomBytes(32) });
      try {
        await benchOpenedx('postgres', store, failures);
      } finally {
        await store.close();
      }
    } finally {
      await adminQuery(`drop schema if exists ${schema} cascade`);
    }
  }

  if (failures.problems.length > 0) {
    for (const p of failures.problems) console.error(`FAILED ${p}`);
    process.exitCode = 1;
  }
}

await main();
