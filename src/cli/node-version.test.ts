/** The Node.js version check that bin/certhub.js runs before anything else, and what a user on an old Node sees. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, unsupportedNodeMessage } from '../../bin/node-version.js';
import { BIN } from './cli.testkit.ts';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
};

describe('unsupportedNodeMessage', () => {
  it.each(['v22.0.0', 'v22.23.3', 'v24.21.0', 'v26.1.0', '24.21.0'])('lets %s run certhub', (version) => {
    expect(unsupportedNodeMessage(version)).toBeUndefined();
  });

  it.each(['v20.20.2', 'v21.7.3', 'v18.20.8', 'v4.9.1'])('refuses %s in one line naming the supported versions', (version) => {
    const message = unsupportedNodeMessage(version);
    expect(message).toMatch(new RegExp(`^Node\\.js 22 or 24 is required \\(this is ${version.replace(/\./g, '\\.')}\\)`));
    expect(message).not.toContain('\n');
  });

  it('refuses a version it cannot read rather than guessing', () => {
    expect(unsupportedNodeMessage('')).toMatch(/^Node\.js 22 or 24 is required \(this is an unknown version\)/);
    expect(unsupportedNodeMessage('v22')).toMatch(/^Node\.js 22 or 24 is required/);
  });

  it('agrees with package.json engines, and the bundled node dependency and .nvmrc name one supported major', () => {
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
    const bundled = pkg.dependencies.node ?? '';
    expect(bundled).toMatch(/^\d+\.\d+\.\d+$/); // pinned exactly: npm start and npm test run on this one
    expect(unsupportedNodeMessage(`v${bundled}`)).toBeUndefined();
    const major = bundled.split('.')[0];
    expect(readFileSync(new URL('.nvmrc', root), 'utf8').trim()).toBe(major);
    expect(readFileSync(new URL('.node-version', root), 'utf8').trim()).toBe(major);
  });
});

describe('certhub on an old Node.js', () => {
  const systemNode = '/usr/bin/node';
  const systemVersion = existsSync(systemNode) ? spawnSync(systemNode, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';

  it('stops with one line on stderr and exit code 2, before loading anything', (ctx) => {
    if (systemVersion === '') ctx.skip(`no ${systemNode} on this machine to try an old Node.js with`);
    if (unsupportedNodeMessage(systemVersion) === undefined) {
      ctx.skip(`${systemNode} is ${systemVersion}, which certhub supports; no older Node.js here to try`);
    }
    const run = spawnSync(systemNode, [BIN, '--version'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(run.status).toBe(2);
    expect(run.signal).toBeNull();
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`certhub: ${unsupportedNodeMessage(systemVersion)}\n`);
    expect(run.stderr).toContain(`Node.js 22 or 24 is required (this is ${systemVersion})`);
  });

  it('runs on this Node.js, the one CI asked for', () => {
    // Printed so a test log shows which Node ran the suite (workers and the CLIs they spawn use process.execPath).
    console.log(`certhub tests run on Node.js ${process.version} (${process.execPath})`);
    const wanted = process.env.CERTHUB_TEST_NODE_MAJOR;
    if (wanted !== undefined && wanted !== '') expect(process.versions.node.split('.')[0]).toBe(wanted);
    const run = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(pkg.version);
  });
});
