/**
 * Regression test for the native crash that made certhub move to better-sqlite3 13: statements finalised by the
 * garbage collector outside a JS context aborted the process (SIGABRT) on Node 24.19+. The child does the churn;
 * here we only check that it lived to exit normally.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./native-gc-child.testkit.ts', import.meta.url));

it('survives the garbage collector finalising 20,000 dropped statements while the event loop is idle', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  expect({ ...exit, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  const report = JSON.parse(stdout) as { node: string; prepared: number; executed: number };
  expect(report.node).toBe(process.version);
  expect(report.prepared).toBeGreaterThanOrEqual(20_000);
  expect(report.executed).toBeGreaterThan(2_000);
});
