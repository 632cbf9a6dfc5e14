/**
 * `certhub sync` as a user runs it (node bin/certhub.js in a fresh directory) on a source whose runs succeed with
 * warnings: a test provider registered in the spawned process (contract/warning-provider.testkit.ts) against a fake
 * platform on node:http. The warnings follow the run's summary, one line each, are in the --json report, and the
 * exit status stays 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NO_FILE_MESSAGE,
  startWarningPlatform,
  UNTITLED_MESSAGE,
  WARNING_PLATFORM_TOKEN,
  WARNING_PROVIDER_ID,
} from '../../contract/warning-provider.testkit.ts';
import type { SyncReport } from '../../sync/report.ts';
import { runCli, type Run } from '../cli.testkit.ts';

// The binary loads TypeScript through tsx once it starts; a module preloaded before it needs tsx's loader first.
const nodeArgs = [
  '--import',
  import.meta.resolve('tsx'),
  '--import',
  fileURLToPath(new URL('../../contract/register-warning-provider.testkit.ts', import.meta.url)),
];

let cwd: string;
let platform: Awaited<ReturnType<typeof startWarningPlatform>>;
beforeAll(async () => {
  platform = await startWarningPlatform();
  cwd = mkdtempSync(join(tmpdir(), 'certhub-cli-warn-'));
  writeFileSync(
    join(cwd, 'certhub.yaml'),
    // The platform listens on 127.0.0.1: the test opts in, as a config for an on-premise platform would.
    `database: sqlite:${join(cwd, 'certhub.db')}\noutbound: { allow_private: true }\nsources:\n` +
      `  - id: badges\n    provider: ${WARNING_PROVIDER_ID}\n    base_url: ${platform.url}\n    token: ${WARNING_PLATFORM_TOKEN}\n`,
  );
});
afterAll(async () => {
  await platform?.close();
  if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
});

const certhub = (args: string[]): Promise<Run> => runCli(args, { cwd, nodeArgs });

describe('certhub sync of a run with warnings (the binary)', () => {
  it('prints one line per warning under the summary, and still exits 0', async () => {
    const run = await certhub(['sync']);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('certhub:'))).toEqual([]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^badges: succeeded in \d+s: 2 pages, 15 certificates \(15 created, 0 updated, 0 unchanged, 0 deleted\), 2 requests$/);
    expect(lines.slice(1)).toEqual([
      `  warning: 12 ${UNTITLED_MESSAGE} (untitled_achievements)`,
      `  warning: 3 ${NO_FILE_MESSAGE} (no_file)`,
    ]);
  });

  it('--json gives the warnings in the report, counts summed over the pages', async () => {
    const run = await certhub(['sync', '--json']);
    expect(run.code).toBe(0);
    const [report, ...rest] = JSON.parse(run.stdout) as SyncReport[];
    expect(rest).toEqual([]);
    expect(report).toMatchObject({ source: 'badges', provider: WARNING_PROVIDER_ID, status: 'succeeded', error: null });
    expect(report?.warnings).toEqual([
      { code: 'untitled_achievements', message: UNTITLED_MESSAGE, count: 12 },
      { code: 'no_file', message: NO_FILE_MESSAGE, count: 3 },
    ]);
    expect(run.stdout).not.toContain(WARNING_PLATFORM_TOKEN);
  });
});
