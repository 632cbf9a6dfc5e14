/**
 * `certhub sync` and `certhub export` as a user runs them (node bin/certhub.js in a fresh directory), on what needs no
 * connector: an empty source list, usage errors. The sync of real sources is covered in process (sync.test.ts) and by
 * the provider contract suite against the simulators.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from './export.ts';
import { runCli, type Run } from '../cli.testkit.ts';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'certhub-cli-sync-'));
  writeFileSync(join(cwd, 'certhub.yaml'), 'sources:\n');
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

const certhub = (args: string[]): Promise<Run> => runCli(args, { cwd });

describe('certhub sync / export (the binary)', () => {
  it('syncs an empty source list: [] with --json, a note without', async () => {
    const json = await certhub(['sync', '--json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);

    const plain = await certhub(['sync']);
    expect(plain.code).toBe(0);
    expect(plain.stderr.trim()).toBe('certhub: no enabled sources are configured; nothing to sync');
  });

  it('refuses an unknown --source in one line with exit code 2', async () => {
    const run = await certhub(['sync', '--source', 'nope']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['certhub: unknown source "nope" (no sources are configured)']);
  });

  it('exports an empty store: nothing as jsonl, the header as csv; a bad --format exits 2', async () => {
    const jsonl = await certhub(['export', '--format', 'jsonl']);
    expect([jsonl.code, jsonl.stdout, jsonl.stderr]).toEqual([0, '', '']);
    const csv = await certhub(['export', '--format', 'csv']);
    expect([csv.code, csv.stdout, csv.stderr]).toEqual([0, `${CSV_COLUMNS.join(',')}\r\n`, '']);
    const bad = await certhub(['export', '--format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['certhub: --format must be csv or jsonl']);
    const missing = await certhub(['export']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^certhub: required option '--format <format>' not specified/);
  });
});
