/** Running the real `certhub` binary in tests, the way a user runs it: `node bin/certhub.js ...`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/certhub.js', import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A clean environment: nothing CERTHUB_* leaks in from the machine running the tests. The clock does: the time zone,
 * and libfaketime's variables when the suite runs under `faketime`, so that a command and the test that started it
 * read one clock.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT', 'TZ', 'LD_PRELOAD'].includes(key) || key.startsWith('FAKETIME'))) env[key] = value;
  }
  return { ...env, ...extra };
}

export interface Started {
  child: ChildProcess;
  done: Promise<Run>;
  /** Resolves with stdout so far once it contains `text` (rejects after `timeoutMs`). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<string>;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Options for node before the binary (`--import <module>`: a test provider registered in that process). */
  nodeArgs?: string[];
}

export function startCli(args: string[], opts: CliOptions): Started {
  const argv = [...(opts.nodeArgs ?? []), BIN, ...args];
  const child = spawn(process.execPath, argv, { cwd: opts.cwd, env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    waiters.forEach((w) => w());
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const waitForOutput = (text: string | RegExp, timeoutMs = 30_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const found = (): boolean => (typeof text === 'string' ? stdout.includes(text) : text.test(stdout));
      if (found()) return resolve(stdout);
      const timer = setTimeout(() => reject(new Error(`no ${String(text)} in output within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`)), timeoutMs);
      waiters.push(() => {
        if (found()) {
          clearTimeout(timer);
          resolve(stdout);
        }
      });
      void done.then((r) => {
        clearTimeout(timer);
        if (!found()) reject(new Error(`exited (${r.code}) without ${String(text)}; stderr: ${r.stderr}`));
      });
    });
  return { child, done, waitForOutput };
}

export const runCli = (args: string[], opts: CliOptions): Promise<Run> => startCli(args, opts).done;
