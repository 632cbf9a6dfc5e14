import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type Started } from '../cli.testkit.ts';

/** `npm start` is `certhub demo`: run it as a user would, twice in the same folder. */
describe('certhub demo (the binary)', () => {
  const dirs: string[] = [];
  let running: Started | null = null;
  afterEach(() => {
    if (running !== null && running.child.exitCode === null && !running.child.killed) running.child.kill('SIGKILL');
    running = null;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function startDemo(cwd: string): Promise<{ url: string; key: string; started: Started }> {
    const started = startCli(['demo', '--port', '0', '--port-base', '0', '--people', '20'], { cwd });
    running = started;
    const out = await started.waitForOutput(/Open the web UI, signed in: +http:\/\/\S+/, 45_000);
    const [, url, key] = /signed in: +(http:\/\/[^/\s]+)\/#key=(chk_\S+)/.exec(out)!;
    expect(out).toContain(`${url}/docs`);
    return { url: url!, key: key!, started };
  }

  async function stop(started: Started): Promise<void> {
    started.child.kill('SIGINT');
    const done = await started.done;
    expect(done.code).toBe(0);
    expect(done.stderr).toBe('');
  }

  it('starts sandbox, hub, UI, a demo tenant with an admin key and requirements; Ctrl-C stops it; a second run reuses the data and the key', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'certhub-demo-'));
    dirs.push(cwd);
    const first = await startDemo(cwd);
    const auth = { authorization: `Bearer ${first.key}` };
    const me = (await (await fetch(`${first.url}/v1/me`, { headers: auth })).json()) as { key: { role: string }; tenant: { slug: string } };
    expect(me).toMatchObject({ key: { role: 'admin' }, tenant: { slug: 'demo' } });
    const ui = await fetch(`${first.url}/`);
    expect(ui.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await ui.text()).toContain('<div id="root">');
    const requirements = (await (await fetch(`${first.url}/v1/requirements`, { headers: auth })).json()) as { items: { name: string }[] };
    expect(requirements.items.map((r) => r.name)).toEqual(['Fire safety', 'First aid', 'Safety training']);
    const sources = (await (await fetch(`${first.url}/v1/sources`, { headers: auth })).json()) as { items: { id: string }[] };
    expect(sources.items.length).toBe(5);
    // The key lives in the data folder, readable by its owner only.
    expect(statSync(join(cwd, 'data', 'demo-admin-key')).mode & 0o077).toBe(0);
    // So is the folder, and the database in it.
    expect(statSync(join(cwd, 'data')).mode & 0o777).toBe(0o700);
    expect(statSync(join(cwd, 'data', 'certhub.db')).mode & 0o077).toBe(0);
    await stop(first.started);

    const second = await startDemo(cwd);
    expect(second.key).toBe(first.key);
    const again = (await (await fetch(`${second.url}/v1/requirements`, { headers: { authorization: `Bearer ${second.key}` } })).json()) as {
      items: unknown[];
    };
    expect(again.items).toHaveLength(3);
    await stop(second.started);
    expect(existsSync(join(cwd, 'data', 'certhub.db'))).toBe(true);
  }, 90_000);
});
