/**
 * The real `certhub` binary, run the way a user runs it: `node bin/certhub.js ...` in a fresh directory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCli, type Run, type Started } from './cli.testkit.ts';

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'certhub-cli-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

const start = (args: string[], env: Record<string, string> = {}): Started => startCli(args, { cwd, env });
const certhub = (args: string[], env?: Record<string, string>): Promise<Run> => start(args, env ?? {}).done;

function write(name: string, text: string): string {
  writeFileSync(join(cwd, name), text);
  return name;
}

const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1) ?? '';

describe('certhub (the binary)', () => {
  it('prints help listing the commands', async () => {
    const run = await certhub(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: certhub/);
    for (const command of ['serve', 'migrate', 'config']) expect(run.stdout).toContain(command);
    expect(run.stdout).toContain('--config <file>');
  });

  it('prints its version', async () => {
    const run = await certhub(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(PACKAGE_VERSION);
  });

  it('ends a usage error in one line and exit code 2', async () => {
    const run = await certhub(['migrate', '--no-such-flag']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([`certhub: unknown option '--no-such-flag' (see certhub --help)`]);
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });
});

describe('certhub config check', () => {
  it('lists every problem of a bad file by its path and exits 2', async () => {
    write(
      'bad.yaml',
      `listen: { port: 99999 }
sources:
  - id: fc
    provider: frontcore
    base_url: https://api.frontcore.com
    api_key: abc
    colour: red
  - id: sp
    provider: springest
    base_url: api.springest.nl
    api_key: abc
`,
    );
    const run = await certhub(['config', 'check', '--config', 'bad.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'listen.port: must be at most 65535',
      'sources[0].colour: unknown key',
      'sources[1].base_url: must be an http(s) URL',
      `certhub: ${join(cwd, 'bad.yaml')} is invalid (3 problems)`,
    ]);
    expect(run.stdout).toBe('');
  });

  it('gives the problems as JSON with --json', async () => {
    write('bad.yaml', 'listen: { port: -1 }\n');
    const run = await certhub(['config', 'check', '--json', '--config', 'bad.yaml']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ ok: false, problems: [{ path: 'listen.port', message: 'must be at least 0' }] });
  });

  it('names a missing ${VAR} and where it is used', async () => {
    write(
      'certhub.yaml',
      `sources:
  - { id: falkor, provider: falkor, base_url: "https://acme.example.com/api", token: "\${FALKOR_TOKEN}" }
`,
    );
    const run = await certhub(['config', 'check']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('sources[0].token: environment variable FALKOR_TOKEN is not set');
    expect(lastLine(run.stderr)).toMatch(/^certhub: .*certhub\.yaml is invalid \(1 problem\)$/);
  });

  it('prints a good configuration resolved, with every secret masked', async () => {
    write(
      'hub.yaml',
      `database: sqlite:./state/hub.db
sources:
  - id: edx
    provider: openedx
    base_url: https://credentials.example.org
    oauth: { token_url: https://lms.example.org/oauth2/access_token,
             client_id: \${EDX_CLIENT_ID}, client_secret: \${EDX_CLIENT_SECRET} }
`,
    );
    const env = {
      CERTHUB_CONFIG: 'hub.yaml',
      EDX_CLIENT_ID: 'edx-client-id-value',
      EDX_CLIENT_SECRET: 'edx-client-secret-value',
      CERTHUB_SECRET_KEY: 'c2VjcmV0LWtleS12YWx1ZS1ub3QtcmVhbGx5LTMyYg==',
    };
    const run = await certhub(['config', 'check'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`sqlite:${join(cwd, 'state', 'hub.db')}`);
    expect(run.stdout).toContain('token_url: https://lms.example.org/oauth2/access_token');
    expect(run.stdout).toContain('client_secret: "***"');
    for (const secret of Object.values(env).slice(1)) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }

    const json = await certhub(['config', 'check', '--json'], env);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; config: { sources: { oauth: unknown }[]; secretKey: string } };
    expect(parsed.ok).toBe(true);
    expect(parsed.config.sources[0]?.oauth).toEqual({
      token_url: 'https://lms.example.org/oauth2/access_token',
      client_id: '***',
      client_secret: '***',
    });
    expect(parsed.config.secretKey).toBe('***');
  });
});

describe('certhub migrate', () => {
  it('finding 13: creates the SQLite database (0600, in a 0700 folder) and its secret key on first run, and is a no-op after', async () => {
    const first = await certhub(['migrate']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied 0001_initial/);
    expect(existsSync(join(cwd, 'data', 'certhub.db'))).toBe(true);
    expect(existsSync(join(cwd, 'data', 'secret.key'))).toBe(true);
    // Its owner's only: the directory, the key and the database (the same test as `ls -l`, without the umask's say).
    const mode = (name: string): string => (statSync(join(cwd, ...(name === '' ? ['data'] : ['data', name]))).mode & 0o777).toString(8);
    expect(mode('')).toBe('700');
    expect(mode('secret.key')).toBe('600');
    expect(mode('certhub.db')).toBe('600');

    const again = await certhub(['migrate', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ database: `sqlite:${join(cwd, 'data', 'certhub.db')}`, applied: [] });
  });

  it('refuses a database set up under another secret key, in one line', async () => {
    expect((await certhub(['migrate'])).code).toBe(0);
    const otherKey = Buffer.alloc(32, 7).toString('base64');
    const run = await certhub(['migrate'], { CERTHUB_SECRET_KEY: otherKey });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^certhub: .*CERTHUB_SECRET_KEY/);
  });

  it('fails with exit code 1 when the database cannot be opened', async () => {
    write('certhub.yaml', 'database: sqlite:./not-a-db.txt\n');
    write('not-a-db.txt', 'this is not a database, just text long enough to have a header '.repeat(10));
    const run = await certhub(['migrate'], { CERTHUB_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^certhub: cannot open database/);
  });
});

describe('certhub serve', () => {
  it('serves /healthz and /readyz over HTTP, then stops cleanly on SIGTERM', async () => {
    write(
      'certhub.yaml',
      `listen: { host: 127.0.0.1, port: 0 }
sources:
  - id: frontcore-main
    provider: frontcore
    base_url: https://api.frontcore.com
    api_key: \${FRONTCORE_API_KEY}
`,
    );
    const server = start(['serve'], { FRONTCORE_API_KEY: 'fc-very-secret-key' });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let seen = '';
        const timer = setTimeout(() => reject(new Error(`serve did not start; stdout so far:\n${seen}`)), 20_000);
        server.child.stdout?.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          const match = /certhub listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
          if (match?.[1] !== undefined) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        void server.done.then((run) => reject(new Error(`serve exited early (${run.code}): ${run.stderr}`)));
      });

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
      const missing = await fetch(`${url}/v1/no-such-route`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
      // Other paths belong to the web UI (its own routes survive a reload); it shows its own "not found" page.
      const page = await fetch(`${url}/people/123`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    } finally {
      server.child.kill('SIGTERM');
    }
    const run = await server.done;
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('"msg":"stopped"');
    expect(run.stdout).toContain('frontcore-main');
    expect(run.stdout).not.toContain('fc-very-secret-key');
    expect(existsSync(join(cwd, 'data', 'certhub.db'))).toBe(true);
  });

  it('fails in one line with exit code 1 when the port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const run = await certhub(['serve', '--port', String(port)]);
      expect(run.code).toBe(1);
      expect(lastLine(run.stderr)).toBe(`certhub: cannot listen on http://127.0.0.1:${port}: the address is already in use`);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      blocker.close();
    }
  });
});
