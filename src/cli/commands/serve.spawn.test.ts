/**
 * `certhub serve` as a user runs it (node bin/certhub.js): an admin key from `certhub keys create`, a source added over
 * HTTP against a running Falkor simulator, synced by the scheduler serve runs and on request, seen on /v1/events,
 * then a clean stop on SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorld } from '../../simulators/common/world.ts';
import { createFalkorSimulator, type FalkorSimulator } from '../../simulators/falkor/index.ts';
import { runCli, startCli } from '../cli.testkit.ts';

let cwd: string;
let falkor: FalkorSimulator;
beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'certhub-serve-'));
  writeFileSync(join(cwd, 'certhub.yaml'), 'listen: { host: 127.0.0.1, port: 0 }\noutbound: { allow_private: true }\nsources:\n');
  falkor = createFalkorSimulator({ world: generateWorld({ seed: 'serve-e2e', people: 20, asOf: '2024-06-01' }) });
  await falkor.sim.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await falkor.sim.close();
  rmSync(cwd, { recursive: true, force: true });
});

async function until<T>(fn: () => Promise<T | null | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('certhub serve (the binary)', () => {
  it('takes a source over HTTP, syncs it on its own and on request, streams the events, and stops cleanly', async () => {
    const keys = await runCli(['keys', 'create', '--name', 'e2e', '--role', 'admin'], { cwd });
    expect(keys.code).toBe(0);
    const key = keys.stdout.trim();
    const auth = { authorization: `Bearer ${key}` };

    const server = startCli(['serve'], { cwd, env: { CERTHUB_METRICS_TOKEN: 'metrics-e2e-token' } });
    try {
      const url = /certhub listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(await server.waitForOutput(/certhub listening on http:\/\/\S+:\d+/))![1]!;
      const stream = await fetch(`${url}/v1/events`, { headers: auth });
      expect(stream.status).toBe(200);
      let events = '';
      const reader = stream.body!.getReader();
      const decoder = new TextDecoder();
      const reading = (async () => {
        for (;;) {
          const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
          if (done) return;
          events += decoder.decode(value, { stream: true });
        }
      })();

      const source = falkor.sourceConfigs()[0] as { id: string; token: string };
      const created = await fetch(`${url}/v1/sources`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(source),
      });
      expect(created.status).toBe(201);
      const truth = falkor.truthFor('acme').length;

      // The scheduler serve runs picks the new source up and syncs it without being asked.
      const scheduled = await until(async () => {
        const res = await fetch(`${url}/v1/sync-runs?source=${source.id}&status=succeeded`, { headers: auth });
        return ((await res.json()) as { items: { id: string; certificates: { created: number } }[] }).items[0];
      }, 'the scheduled run');
      expect(scheduled.certificates.created).toBe(truth);

      // And on request: a second run finds nothing new.
      const started = await fetch(`${url}/v1/sources/${source.id}/sync`, { method: 'POST', headers: auth });
      expect(started.status).toBe(202);
      const { run_id } = (await started.json()) as { run_id: string };
      const run = await until(async () => {
        const body = (await (await fetch(`${url}/v1/sync-runs/${run_id}`, { headers: auth })).json()) as { status: string };
        return body.status === 'running' ? null : body;
      }, 'the requested run');
      expect(run).toMatchObject({ status: 'succeeded', certificates: { created: 0, updated: 0, deleted: 0 } });

      const view = (await (await fetch(`${url}/v1/sources/${source.id}`, { headers: auth })).json()) as Record<string, unknown>;
      expect(view).toMatchObject({ certificates: truth, has_credentials: true, last_run: { id: run_id } });
      expect(JSON.stringify(view)).not.toContain(source.token);

      await until(() => Promise.resolve(events.includes(`"run_id":"${run_id}","status":"succeeded"`) ? true : null), 'sync.finished on the stream');
      expect(events).toContain('event: certificates.changed');
      // Finding 12 of issue 13: /metrics wants the metrics token, and labels runs by tenant and source slug.
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer metrics-e2e-token' } })).text();
      expect(metrics).toMatch(/certhub_sync_runs_total\{tenant="default",source="falkor-acme",provider="falkor",status="succeeded"\} 2/);

      server.child.kill('SIGTERM');
      await reading;
    } finally {
      // Only if the test failed before its own SIGTERM: a second one during shutdown would rightly end the process at once.
      if (server.child.signalCode === null && server.child.exitCode === null && !server.child.killed) server.child.kill('SIGTERM');
    }
    const done = await server.done;
    expect(done.code).toBe(0);
    expect(done.stderr).toBe('');
    expect(done.stdout).toContain('"msg":"stopped"');
    expect(done.stdout).not.toContain(falkor.sourceConfigs()[0]!.token as string);
    // Requests were logged (one line each), but never the API key they carried.
    expect(done.stdout).toMatch(/"url":"\/v1\/sources/);
    expect(done.stdout).not.toContain(key);
  }, 90_000);
});
