/**
 * Outbox throughput and lag (issue: "npm run bench reports outbox throughput: webhook deliveries per second to a local
 * receiver, and the lag from a certificate change to its delivery"). The receiver runs on loopback in its own thread
 * and verifies every delivery with `standardwebhooks`, as an integrator's would. Against baselines measured in the
 * same run:
 *
 * - write: savePage pages of 500 new certificates with an enabled endpoint (events + outbox rows in the page's
 *   transaction) against the same pages with the endpoint disabled (nothing queued), interleaved;
 * - throughput: the worker draining N deliveries (runOnce until empty, default batch) against a bare undici POST loop
 *   of the same bodies, signed the same way, with as many requests in flight as the worker's batch; best of
 *   BENCH_ROUNDS each (the outbox rows are made due again between rounds), every round checked at the receiver;
 * - lag: from savePage resolving to the receiver having the delivery, one certificate at a time with the worker
 *   started and the hub idle, polling (default pollMs) and with wake() after each save (what the API does).
 *
 * SQLite (temp file) always; PostgreSQL too when CERTHUB_BENCH_PG_URL / CERTHUB_TEST_PG_URL (or the tests' default)
 * answers, in a fresh schema dropped afterwards. Exits 1 when a delivery is missing or a signature fails.
 *
 *   npm run bench outbox
 *   BENCH_DELIVERIES=20000 BENCH_LAG_SAVES=500 BENCH_ROUNDS=5 npm run bench outbox
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { Agent, request } from 'undici';
import { createPersonResolver } from '../src/identity/resolver.ts';
import { eventBody } from '../src/outbound/catalog.ts';
import { createWebhookWorker, signatures } from '../src/outbound/webhook-worker.ts';
import { ALLOW_PRIVATE_EGRESS } from '../src/providers/http/egress.ts';
import { describePostgresUrl } from '../src/store/connect.ts';
import { databaseOf } from '../src/store/database.testkit.ts';
import { createStore, type Store } from '../src/store/index.ts';
import { sampleCertificate } from '../src/store/sample-certificate.testkit.ts';
import { best } from './million.ts';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 5000);
const LAG_SAVES = Number(process.env.BENCH_LAG_SAVES ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAGE = 500;
/** The worker's default batch: the baseline keeps as many requests in flight. */
const IN_FLIGHT = 20;
const LAG_SPACING_MS = 20;
const PG_URL = process.env.CERTHUB_BENCH_PG_URL ?? process.env.CERTHUB_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Wall-clock milliseconds comparable across threads (each thread has its own timeOrigin). */
const clock = () => performance.timeOrigin + performance.now();

// The receiver, in its own thread so its parsing and HMACs do not share the sender's event loop. Plain CommonJS (an
// eval worker): it needs no loader. Arrivals are posted in batches, each stamped when its body was read.
const RECEIVER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createServer } = require('node:http');
const { Webhook } = require(workerData.standardwebhooks);
let verifiers = [];
let pending = [];
const flush = () => { const batch = pending; pending = []; parentPort.postMessage({ kind: 'arrivals', batch }); };
const post = (m) => { if (pending.push(m) === 1) setImmediate(flush); };
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const t = performance.timeOrigin + performance.now();
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = {
      'webhook-id': String(req.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
    };
    let event = null;
    for (const v of verifiers) {
      try { event = v.verify(body, headers); break; } catch { /* the next secret */ }
    }
    if (event === null) {
      post({ id: headers['webhook-id'], ext: null, t, ok: false });
      res.writeHead(400).end('bad signature');
      return;
    }
    post({ id: headers['webhook-id'], ext: event.data && typeof event.data.external_id === 'string' ? event.data.external_id : null, t, ok: true });
    res.writeHead(204).end();
  });
});
parentPort.on('message', (m) => {
  if (m.kind === 'secrets') { verifiers = m.secrets.map((s) => new Webhook(s)); parentPort.postMessage({ kind: 'secrets' }); }
  if (m.kind === 'close') server.close(() => parentPort.close());
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ kind: 'listening', port: server.address().port }));
`;

interface Arrival {
  id: string;
  ext: string | null;
  t: number;
  ok: boolean;
}

interface Receiver {
  url: string;
  /** Verified requests, duplicates included. */
  requests: number;
  /** webhook-id -> first verified arrival. */
  readonly byId: Map<string, Arrival>;
  /** Ids whose signature did not verify. */
  readonly rejected: string[];
  accept(secrets: string[]): Promise<void>;
  reset(): void;
  /** When the delivery of the certificate with this external id arrived (absolute ms). */
  arrivalOf(externalId: string): Promise<number>;
  /** Until the receiver thread has reported `n` distinct ids (its messages trail the HTTP answers a little). */
  settle(n: number): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const standardwebhooks = createRequire(import.meta.url).resolve('standardwebhooks');
  const thread = new Worker(RECEIVER_SOURCE, { eval: true, workerData: { standardwebhooks } });
  const byExt = new Map<string, number>();
  const waiting = new Map<string, (t: number) => void>();
  let onSecrets: (() => void) | null = null;
  let onProgress: (() => void) | null = null;
  const receiver: Receiver = {
    url: '',
    requests: 0,
    byId: new Map(),
    rejected: [],
    accept: (secrets) =>
      new Promise<void>((resolve) => {
        onSecrets = resolve;
        thread.postMessage({ kind: 'secrets', secrets });
      }),
    reset() {
      receiver.requests = 0;
      receiver.byId.clear();
      receiver.rejected.length = 0;
      byExt.clear();
    },
    arrivalOf: (ext) => {
      const t = byExt.get(ext);
      return t === undefined ? new Promise<number>((resolve) => waiting.set(ext, resolve)) : Promise.resolve(t);
    },
    async settle(n) {
      const until = Date.now() + 5000;
      while (receiver.byId.size < n && Date.now() < until) {
        await Promise.race([new Promise<void>((resolve) => (onProgress = resolve)), delay(100)]);
      }
    },
    close: async () => {
      thread.postMessage({ kind: 'close' });
      await Promise.race([new Promise((resolve) => thread.once('exit', resolve)), delay(2000)]);
      await thread.terminate();
    },
  };
  const port = await new Promise<number>((resolve, reject) => {
    thread.once('error', reject);
    thread.on('message', (m: { kind: 'listening'; port: number } | { kind: 'secrets' } | { kind: 'arrivals'; batch: Arrival[] }) => {
      if (m.kind === 'listening') resolve(m.port);
      if (m.kind === 'secrets') onSecrets?.();
      if (m.kind !== 'arrivals') return;
      for (const a of m.batch) {
        if (!a.ok) {
          receiver.rejected.push(a.id);
          continue;
        }
        receiver.requests++;
        if (!receiver.byId.has(a.id)) receiver.byId.set(a.id, a);
        if (a.ext !== null && !byExt.has(a.ext)) {
          byExt.set(a.ext, a.t);
          waiting.get(a.ext)?.(a.t);
          waiting.delete(a.ext);
        }
      }
      onProgress?.();
    });
  });
  receiver.url = `http://127.0.0.1:${port}/hooks`;
  return receiver;
}

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en').padStart(8);
const label = (dialect: string, what: string) => `${dialect.padEnd(8)} ${what.padEnd(40)}`;

interface Failures {
  problems: string[];
}

/** One dialect's run: write cost, baseline and worker throughput, lag. */
async function benchStore(dialect: string, store: Store, receiver: Receiver, failures: Failures): Promise<void> {
  await store.migrate();
  const tenant = (await store.tenants.getTenantBySlug('default'))!;
  const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
  const { endpoint, secret } = await store.webhooks.createEndpoint(tenant.id, { url: receiver.url });
  await receiver.accept([secret]);
  const resolvePeople = createPersonResolver();
  const save = (from: number, count: number) =>
    store.certificates.savePage(
      source.id,
      Array.from({ length: count }, (_, k) => sampleCertificate(from + k)),
      null,
      { now: new Date(), resolvePeople },
    );

  // Write: pages alternately with the endpoint enabled (queued: DELIVERIES) and disabled (the same work, nothing queued).
  let withMs = 0;
  let withoutMs = 0;
  for (let done = 0; done < DELIVERIES; done += PAGE) {
    const count = Math.min(PAGE, DELIVERIES - done);
    await store.webhooks.updateEndpoint(tenant.id, endpoint.id, { enabled: false });
    let t0 = performance.now();
    await save(10_000_000 + done, count);
    withoutMs += performance.now() - t0;
    await store.webhooks.updateEndpoint(tenant.id, endpoint.id, { enabled: true });
    t0 = performance.now();
    await save(done, count);
    withMs += performance.now() - t0;
  }
  console.log(
    `${label(dialect, `savePage, ${PAGE} new certificates a page`)}${rate(DELIVERIES, withMs)} certs/s  ${(withMs / withoutMs).toFixed(2)}x the time without an endpoint (${rate(DELIVERIES, withoutMs).trim()} certs/s)`,
  );

  // Baseline: the queued events' bodies, signed as the worker signs them, POSTed with IN_FLIGHT in flight.
  const events = await databaseOf(store).selectFrom('events').select(['id', 'type', 'occurred_at', 'data_json']).execute();
  if (events.length !== DELIVERIES) failures.problems.push(`${dialect}: ${events.length} events stored for ${DELIVERIES} new certificates`);
  const bodies = events.map((e) => ({ id: e.id, body: eventBody({ type: e.type, occurred_at: e.occurred_at, data: JSON.parse(e.data_json) as unknown }) }));
  const secrets = { current: secret, previous: null, previous_until: null };
  const agent = new Agent();
  const postAll = async (items: typeof bodies): Promise<number> => {
    let next = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < items.length) {
          const { id, body } = items[next++]!;
          const at = new Date();
          const res = await request(receiver.url, {
            method: 'POST',
            dispatcher: agent,
            headers: {
              'content-type': 'application/json',
              'user-agent': 'certhub-bench/1',
              'webhook-id': id,
              'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
              'webhook-signature': signatures(secrets, id, at, body),
            },
            body,
          });
          await res.body.text();
          if (res.statusCode !== 204) failed++;
        }
      }),
    );
    return failed;
  };
  await postAll(bodies.slice(0, 500));
  const baselineMs = await best(ROUNDS, async () => {
    receiver.reset();
    const failed = await postAll(bodies);
    await receiver.settle(bodies.length);
    if (failed > 0 || receiver.byId.size !== bodies.length) {
      failures.problems.push(`${dialect}: baseline: ${receiver.byId.size}/${bodies.length} arrived, ${failed} not answered 204`);
    }
  });
  await agent.close();
  console.log(`${label(dialect, `baseline POST loop, ${IN_FLIGHT} in flight`)}${rate(bodies.length, baselineMs)} req/s`);

  // Throughput: the worker drains the outbox; between rounds every delivery is made due again, as new.
  let passes = 0;
  let drainMs = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) {
      await databaseOf(store)
        .updateTable('outbox')
        .set({ status: 'pending', attempts: 0, next_attempt_at: new Date().toISOString(), finished_at: null, last_attempt_at: null, last_status_code: null, last_latency_ms: null, last_response: null })
        .where('kind', '=', 'webhook')
        .execute();
    }
    receiver.reset();
    const drainer = createWebhookWorker({ store, egress: ALLOW_PRIVATE_EGRESS });
    passes = 0;
    const t0 = performance.now();
    while ((await drainer.runOnce()) > 0) passes++;
    drainMs = Math.min(drainMs, performance.now() - t0);
    await drainer.stop();
    await receiver.settle(DELIVERIES);
    const statuses = await databaseOf(store)
      .selectFrom('outbox')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const byStatus = Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]));
    const what = `${dialect}: drain round ${round + 1}`;
    if (receiver.byId.size !== DELIVERIES) failures.problems.push(`${what}: ${receiver.byId.size}/${DELIVERIES} deliveries arrived`);
    if (receiver.rejected.length > 0) failures.problems.push(`${what}: ${receiver.rejected.length} deliveries failed signature verification`);
    if (byStatus.succeeded !== DELIVERIES) failures.problems.push(`${what}: outbox says ${JSON.stringify(byStatus)}`);
  }
  console.log(
    `${label(dialect, `worker drain (runOnce x ${passes}, batch ${IN_FLIGHT})`)}${rate(DELIVERIES, drainMs)} deliveries/s  ${(baselineMs / drainMs).toFixed(2)}x baseline  ` +
      `(each round: ${receiver.byId.size}/${DELIVERIES} ids, ${receiver.rejected.length} bad signatures, ${receiver.requests - receiver.byId.size} duplicates)`,
  );

  // Lag: one certificate at a time, the hub otherwise idle.
  let first = 20_000_000;
  for (const wake of [false, true]) {
    receiver.reset();
    const worker = createWebhookWorker({ store, egress: ALLOW_PRIVATE_EGRESS });
    worker.start();
    await delay(50);
    const lags: Promise<number>[] = [];
    for (let i = 0; i < LAG_SAVES; i++) {
      const n = first + i;
      await save(n, 1);
      const saved = clock();
      if (wake) worker.wake();
      lags.push(receiver.arrivalOf(`ext-${n}`).then((t) => t - saved));
      await delay(LAG_SPACING_MS);
    }
    const timeout = delay(10_000).then(() => null);
    const all = await Promise.race([Promise.all(lags), timeout]);
    await worker.stop();
    first += LAG_SAVES;
    if (all === null) {
      failures.problems.push(`${dialect}: lag: ${receiver.byId.size}/${LAG_SAVES} deliveries arrived within 10 s`);
      continue;
    }
    const sorted = all.sort((a, b) => a - b);
    const ms = (v: number) => v.toFixed(1).padStart(7);
    console.log(
      `${label(dialect, wake ? 'lag, wake() after each save' : 'lag, polling (default pollMs 1000)')}p50 ${ms(percentile(sorted, 50))} ms  p95 ${ms(percentile(sorted, 95))} ms  max ${ms(sorted[sorted.length - 1]!)} ms  (${LAG_SAVES} saves, ${LAG_SPACING_MS} ms apart)`,
    );
    if (receiver.rejected.length > 0) failures.problems.push(`${dialect}: lag: ${receiver.rejected.length} bad signatures`);
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
  console.log(
    `${DELIVERIES} certificate.created deliveries to one endpoint; receiver on loopback in its own thread, verifying every signature (standardwebhooks)`,
  );
  const receiver = await startReceiver();
  const failures: Failures = { problems: [] };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'certhub-bench-outbox-'));
    try {
      const store = await createStore({ url: `sqlite:${join(dir, 'hub.db')}`, secretKey: randomBytes(32) });
      try {
        await benchStore('sqlite', store, receiver, failures);
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
          await benchStore('postgres', store, receiver, failures);
        } finally {
          await store.close();
        }
      } finally {
        await adminQuery(`drop schema if exists ${schema} cascade`);
      }
    }
  } finally {
    await receiver.close();
  }
  if (failures.problems.length > 0) {
    for (const p of failures.problems) console.error(`FAILED ${p}`);
    process.exitCode = 1;
  }
}

await main();
