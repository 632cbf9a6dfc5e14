/** `certhub sandbox` as a user meets it: the real binary, real ports, curl-like requests. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startCli, type Started } from './cli.testkit.ts';

interface Summary {
  seed: string;
  people: number;
  simulators: Record<'frontcore' | 'falkor' | 'openedx' | 'springest', { url: string }>;
  sources: Record<string, unknown>[];
}

let cwd: string;
let running: Started | undefined;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'certhub-sandbox-'));
});
afterEach(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.done;
  }
  running = undefined;
  rmSync(cwd, { recursive: true, force: true });
});

async function startSandbox(extra: string[] = []): Promise<Summary> {
  running = startCli(['sandbox', '--json', '--port-base', '0', '--people', '60', '--seed', 'cli', '--as-of', '2026-06-01', ...extra], { cwd });
  // Start-up speed is a benchmark's business; here only a sandbox that never says it is ready fails.
  const out = await running.waitForOutput('\n', 60_000);
  return JSON.parse(out.trim().split('\n')[0] ?? '') as Summary;
}

describe('certhub sandbox', () => {
  it('prints one JSON line with the four base URLs and credentials once all listen, and stops cleanly on SIGTERM', async () => {
    const summary = await startSandbox();
    expect(Object.keys(summary.simulators).sort()).toEqual(['falkor', 'frontcore', 'openedx', 'springest']);
    expect(summary.sources.map((s) => s.provider).sort()).toEqual(['falkor', 'falkor', 'frontcore', 'openedx', 'springest']);
    for (const { url } of Object.values(summary.simulators)) {
      const index = await fetch(`${url}/__sim`);
      expect(index.status).toBe(200);
    }
    running?.child.kill('SIGTERM');
    const run = await running?.done;
    expect(run?.code).toBe(0);
    expect(run?.stderr).toBe('');
  });

  it('lists each simulator, Open edX\'s course-discovery on its own host among them, and that host names titles', async () => {
    running = startCli(['sandbox', '--port-base', '0', '--people', '20', '--seed', 'cli', '--as-of', '2026-06-01'], { cwd });
    const out = await running.waitForOutput('Ctrl-C stops the simulators.', 60_000);
    const credentials = /^ {2}openedx +(http:\/\/127\.0\.0\.1:\d+) /m.exec(out)?.[1];
    const discovery = /^ {13}(http:\/\/127\.0\.0\.1:\d+) +\(openedx-discovery\)$/m.exec(out)?.[1];
    expect(credentials).toBeDefined();
    expect(discovery).toBeDefined();
    expect(discovery).not.toBe(credentials);
    // The Credentials host does not serve the catalog (HTML 404); the discovery host does (it wants the same JWT).
    expect((await fetch(`${credentials}/api/v1/programs/`)).status).toBe(404);
    expect((await fetch(`${discovery}/api/v1/programs/`)).status).toBe(401);
    expect(out).toMatch(new RegExp(`catalog_url=${discovery}`));
  });

  it('a wrong key gets each provider\'s documented error shape', async () => {
    const { simulators: s, sources } = await startSandbox();
    const fc = await fetch(`${s.frontcore.url}/v2/diplomas?user_id=1`, { headers: { 'X-API-Key': 'wrong' } });
    expect(await fc.json()).toEqual({ error: 'Wrong API Key' });
    const falkorBase = String(sources.find((x) => x.provider === 'falkor')?.base_url);
    const fk = await fetch(`${falkorBase}/v1/logs/story-certificates`, { method: 'POST', headers: { authorization: 'Basic d3Jvbmc=' }, body: '{}' });
    expect(fk.status).toBe(401);
    expect(await fk.json()).toMatchObject({ status: 'error', message: expect.any(String) as string });
    const edx = await fetch(`${s.openedx.url}/api/v2/credentials/`, { headers: { authorization: 'JWT wrong' } });
    expect(edx.status).toBe(401);
    expect(await edx.json()).toMatchObject({ detail: expect.any(String) as string });
    const sp = await fetch(`${s.springest.url}/users/certificates?api_key=wrong`);
    expect(sp.status).toBe(401);
    expect(JSON.stringify(await sp.json())).toMatch(/error/i);
  });

  it('six FrontCore requests in one second get at least one 429', async () => {
    const { simulators: s, sources } = await startSandbox();
    const key = String(sources.find((x) => x.provider === 'frontcore')?.api_key);
    const statuses = await Promise.all(Array.from({ length: 6 }, () => fetch(`${s.frontcore.url}/v2/participants`, { headers: { 'X-API-Key': key } }).then((r) => r.status)));
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThanOrEqual(5);
  });

  it('writes a certhub.yaml that certhub config check accepts, and serves the same data for the same seed', async () => {
    const first = await startSandbox(['--write-config', 'sandbox.yaml']);
    const config = readFileSync(join(cwd, 'sandbox.yaml'), 'utf8');
    expect(config).toContain('provider: frontcore');
    const check = await runCli(['config', 'check', '--config', 'sandbox.yaml'], { cwd });
    expect(check.code).toBe(0);
    const truthA = await (await fetch(`${first.simulators.frontcore.url}/__sim/truth`)).text();
    running?.child.kill('SIGTERM');
    await running?.done;
    const second = await startSandbox();
    const truthB = await (await fetch(`${second.simulators.frontcore.url}/__sim/truth`)).text();
    expect(truthB === truthA).toBe(true);
  });

  it('refuses a bad flag in one line with a non-zero exit', async () => {
    const run = await runCli(['sandbox', '--people', 'lots'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('certhub: --people must be a whole number between 0 and 2000000');
  });
});
