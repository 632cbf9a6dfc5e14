/**
 * A provider simulator in a child process of its own (see child.testkit.ts), for tests whose assertions depend on
 * when requests reach the provider: the documented rate limits. Talk to it over HTTP (`/__sim/...`).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimulatedProvider } from '../common/world.ts';

const CHILD = fileURLToPath(new URL('./child.testkit.ts', import.meta.url));

export interface SimulatorProcess {
  url: string;
  /** certhub.yaml `sources:` entries for it, credentials included. */
  sources: Record<string, unknown>[];
  close(): Promise<void>;
}

export function startSimulatorProcess(opts: { provider: SimulatedProvider; seed: string; people: number; asOf: string; clock: () => Date }): Promise<SimulatorProcess> {
  const args = JSON.stringify({ provider: opts.provider, seed: opts.seed, people: opts.people, asOf: opts.asOf, clockAtSpawn: opts.clock().toISOString() });
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`simulator process for ${opts.provider} exited ${code}: ${stderr}`)));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const line = stdout.split('\n')[0];
      if (!stdout.includes('\n') || line === undefined) return;
      const ready = JSON.parse(line) as { url: string; sources: Record<string, unknown>[] };
      resolve({
        ...ready,
        async close() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
