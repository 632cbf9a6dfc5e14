import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.testkit.ts';

describe('certhub keys (the binary)', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'certhub-keys-'));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('creates a key printed once, lists it without the key, revokes it, and refuses bad flags in one line', async () => {
    const created = await runCli(['keys', 'create', '--name', 'payroll sync', '--role', 'read', '--tenant', 'acme', '--json'], { cwd });
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; role: string; tenant: string; prefix: string };
    expect(key).toMatchObject({ role: 'read', tenant: 'acme' });
    expect(key.key).toMatch(/^chk_[A-Za-z0-9_-]{43}$/);

    const list = await runCli(['keys', 'list', '--tenant', 'acme'], { cwd });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(key.id);
    expect(list.stdout).toContain(`${key.prefix}…`);
    expect(list.stdout).toContain('active');
    expect(list.stdout).not.toContain(key.key);

    const revoked = await runCli(['keys', 'revoke', key.id, '--tenant', 'acme'], { cwd });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`revoked ${key.id} (payroll sync)\n`);
    const after = JSON.parse((await runCli(['keys', 'list', '--tenant', 'acme', '--json'], { cwd })).stdout) as Array<{ id: string; revoked_at: string | null }>;
    expect(after.find((k) => k.id === key.id)?.revoked_at).not.toBeNull();

    // Another tenant cannot revoke it, and does not see it.
    const other = await runCli(['keys', 'revoke', key.id], { cwd });
    expect(other.code).toBe(1);
    expect(other.stderr).toBe(`certhub: API key ${key.id} not found\n`);

    const bad = await runCli(['keys', 'create', '--name', 'x', '--role', 'owner'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('certhub: --role must be read or admin\n');
    const unknown = await runCli(['keys', 'list', '--tenant', 'nope'], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('certhub: unknown tenant "nope"\n');
  }, 60_000);
});
