/**
 * The whole path as a user walks it: `certhub sandbox --write-config`, then `certhub sync` and `certhub export`
 * as real commands against the running simulators.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type Started } from './cli.testkit.ts';

interface Summary {
  simulators: Record<string, { url: string }>;
  sources: { id: string; provider: string }[];
}
interface Report {
  source: string;
  status: string;
  certificates: { created: number; updated: number; unchanged: number; deleted: number };
  requests_by_endpoint: Record<string, number>;
}

describe('certhub sync and export against the sandbox', () => {
  let cwd: string;
  let sandbox: Started;
  let summary: Summary;
  let truthTotal = 0;
  const env = (): Record<string, string> => ({ CERTHUB_CONFIG: 'sandbox.yaml' });

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'certhub-e2e-'));
    // The sandbox's own default asOf (the day before it starts, by its clock): the commands below read that clock too.
    sandbox = startCli(['sandbox', '--json', '--port-base', '0', '--people', '25', '--seed', 'e2e', '--write-config', 'sandbox.yaml'], { cwd });
    summary = JSON.parse((await sandbox.waitForOutput('\n')).trim()) as Summary;
    for (const { url } of Object.values(summary.simulators)) truthTotal += ((await (await fetch(`${url}/__sim/truth`)).json()) as unknown[]).length;
  });
  afterAll(async () => {
    sandbox.child.kill('SIGTERM');
    await sandbox.done;
    rmSync(cwd, { recursive: true, force: true });
  });

  it('syncs every source: --json prints one report per source, and a second run finds nothing new', async () => {
    const run = await runCli(['sync', '--json'], { cwd, env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const reports = JSON.parse(run.stdout) as Report[];
    expect(reports.map((r) => r.source).sort()).toEqual(summary.sources.map((s) => s.id).sort());
    expect(reports.every((r) => r.status === 'succeeded')).toBe(true);
    expect(reports.reduce((n, r) => n + r.certificates.created, 0)).toBe(truthTotal);

    // Nothing changed: one participants page and no diplomas, on every day. Every participant the lookback reads again
    // (10 minutes before the high-water mark, two hours more next to a DST change) was remembered as handled, since
    // the whole world is dated before the first scan began.
    const again = JSON.parse((await runCli(['sync', '--json', '--source', 'frontcore-main'], { cwd, env: env() })).stdout) as Report[];
    expect(again).toHaveLength(1);
    expect(again[0]?.certificates).toMatchObject({ created: 0, updated: 0, deleted: 0 });
    expect(again[0]?.requests_by_endpoint).toEqual({ 'GET /v2/participants': 1 });
  }, 120_000);

  it('without a terminal prints plain progress lines; an unknown source is a one-line error with exit 2', async () => {
    const plain = await runCli(['sync', '--source', 'falkor-acme'], { cwd, env: env() });
    expect(plain.code).toBe(0);
    expect(`${plain.stdout}${plain.stderr}`).toMatch(/falkor-acme/);
    const bad = await runCli(['sync', '--source', 'nope'], { cwd, env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^certhub: .*nope/);
  });

  it('exports every stored certificate as JSON lines in the DESIGN.md shape, and as CSV', async () => {
    const jsonl = await runCli(['export', '--format', 'jsonl'], { cwd, env: env() });
    expect(jsonl.code).toBe(0);
    const rows = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(truthTotal);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(['achievement', 'external_id', 'file', 'first_seen_at', 'id', 'issued_at', 'last_seen_at', 'person_id', 'provider', 'serial', 'source', 'status', 'subject', 'updated_at', 'valid_from', 'valid_until', 'validity'].sort());
    expect(JSON.stringify(rows)).not.toMatch(/national_id/);
    const csv = await runCli(['export', '--format', 'csv'], { cwd, env: env() });
    const lines = csv.stdout.trimEnd().split('\r\n');
    expect(lines).toHaveLength(truthTotal + 1);
    expect(lines[0]).toMatch(/^id,/);
  });
});
