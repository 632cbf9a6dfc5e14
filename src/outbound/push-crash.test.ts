/**
 * Issue 16, pushes under crashes: a child process posts FrontCore diplomas to Springest (through a proxy that holds
 * each POST's answer back, so a kill often lands after Springest stored the certificate and before certhub heard of
 * it) and is SIGKILLed at a random instant, 20 times; the next child takes over. Once Springest verifies the
 * certification, every diploma is there exactly once, and no post was ever refused for the rate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { applyConfiguredSources } from '../config/apply.ts';
import type { Config } from '../config/index.ts';
import { startRecordingProxy, type RecordingProxy } from '../contract/recording-proxy.testkit.ts';
import type { Certificate } from '../domain/certificate.ts';
import { describeEachDialect } from '../store/dialects.testkit.ts';
import { createTestClock } from '../test-clock.testkit.ts';
import { resolvePushRule } from './push-rules.ts';
import { startPushWorld, type PushWorld } from './push.testkit.ts';

const CHILD = fileURLToPath(new URL('./push-crash-child.testkit.ts', import.meta.url));
const TRIALS = 20;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function startChild(env: Record<string, string>): { child: ChildProcess; ready: Promise<void>; exited: Promise<Exit> } {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('ready')) resolve();
    });
    child.on('close', () => resolve());
  });
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, ready, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let world: PushWorld | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await world?.close();
  proxy = undefined;
  world = undefined;
});

describeEachDialect('Springest pushes under SIGKILL', (h) => {
  it('each diploma appears at Springest exactly once once verified, whenever the pushing process dies', { timeout: 300_000 }, async () => {
    const clock = createTestClock();
    const store = await h.open();
    const pw = (world = await startPushWorld(store, clock));
    // Every POST's answer comes 400 ms after Springest stored the certificate: a kill then loses the answer.
    let posted: (() => void) | null = null;
    const px = (proxy = await startRecordingProxy(pw.sp.url, clock.now, {
      holdAnswerMs: (method) => (method === 'POST' ? 400 : 0),
      onRequest: (method) => {
        if (method === 'POST') posted?.();
      },
    }));
    await applyConfiguredSources(store, { sources: [pw.fc.config, { ...pw.sp.config, base_url: px.url }, pw.oe.config] } as Config);

    const page = await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.fc.source.id], statuses: ['awarded'] }, { limit: 1000 });
    const by = new Map<string, Certificate[]>();
    for (const c of page.items.filter((x) => x.file.available && x.subject.email !== null)) by.set(c.achievement.external_id, [...(by.get(c.achievement.external_id) ?? []), c]);
    const [course, diplomas] = [...by].sort((a, b) => b[1].length - a[1].length)[0]!;
    const certification = pw.sp.sim.host.certifications.find((c) => !c.verified && !c.requires_valid_until)!;
    await store.pushes.createRule(
      pw.tenant.id,
      await resolvePushRule(store, pw.tenant.id, {
        name: 'crash trial',
        match: { achievement: { source: 'fc', external_id: course } },
        target_source: 'sp',
        target: { certification_id: certification.id },
      }),
      { now: clock.now() },
    );

    const where = h.location();
    const env = (horizonMs: number) => ({
      CRASH_DB_URL: where.url,
      ...(where.pgSchema === undefined ? {} : { CRASH_PG_SCHEMA: where.pgSchema }),
      CRASH_SECRET_KEY: h.key.toString('base64'),
      CRASH_CLOCK_AT_SPAWN: clock.now().toISOString(),
      CRASH_LEASE_MS: '1500',
      CRASH_HORIZON_MS: String(horizonMs),
    });
    let kills = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const { child, ready, exited } = startChild(env(5000));
      let done = false;
      void exited.then(() => (done = true));
      await ready;
      if (trial % 2 === 0) await sleep(Math.floor(Math.random() * 1500));
      else {
        // Right after a POST reached Springest, while its answer is held: the create happened, the answer is lost.
        await Promise.race([new Promise<void>((resolve) => (posted = resolve)), exited]);
        posted = null;
        await sleep(50 + Math.floor(Math.random() * 250));
      }
      if (!done) {
        child.kill('SIGKILL');
        kills += 1;
      }
      const exit = await exited;
      if (exit.signal === null) expect(exit.code, exit.stderr).toBe(0);
      // The dead child's claim runs out before the next one looks.
      await sleep(300);
    }
    expect(kills).toBeGreaterThanOrEqual(TRIALS / 2);
    // Some kills landed between Springest storing a certificate and certhub hearing of it.
    expect(px.lostAnswers).toBeGreaterThan(0);

    // Everything posted that will be: then Springest verifies the certification, and later looks find the copies.
    const drained = await startChild(env(5000)).exited;
    expect(drained.code, drained.stderr).toBe(0);
    await pw.control('sp', 'POST', `/certifications/${certification.id}/verify`);
    clock.advance(3600_000);
    const final = await startChild(env(5000)).exited;
    expect(final.code, final.stderr).toBe(0);

    const pushes = (await store.pushes.listPushes(pw.tenant.id, { limit: 500 })).items;
    expect(pushes.filter((p) => p.state !== 'pushed').map((p) => `${p.state}: ${p.last_error}`)).toEqual([]);
    expect(pushes).toHaveLength(diplomas.length);
    // Exactly once: Springest stored one certificate per diploma (visible or not), per email as many as diplomas.
    expect(pw.sp.sim.host.posted.size).toBe(diplomas.length);
    const res = await fetch(`${pw.sp.url}/users/certificates.json?api_key=${pw.sp.sim.host.apiKey}&certification_id=${certification.id}`);
    const listed = ((await res.json()) as { certificates: { id: number; user: { email: string } }[] }).certificates;
    const remote = new Set(pushes.map((p) => p.remote_id));
    const copies = listed.filter((c) => remote.has(String(c.id)));
    expect(copies).toHaveLength(diplomas.length);
    const perEmail = (emails: string[]) => emails.reduce((m, e) => m.set(e.trim().toLowerCase(), (m.get(e.trim().toLowerCase()) ?? 0) + 1), new Map<string, number>());
    expect(perEmail(copies.map((c) => c.user.email))).toEqual(perEmail(diplomas.map((d) => d.subject.email!)));
    // Never refused for the rate: paced across the processes through the store.
    expect(px.log.filter((e) => e.method === 'POST' && e.status !== 201)).toEqual([]);
  });
});
