/** `certhub secret-key rotate` as a user runs it, on a SQLite store whose key is the generated secret.key or CERTHUB_SECRET_KEY. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPersonResolver } from '../../identity/index.ts';
import { loadSecretKey, writeSecretKeyFile } from '../../secrets.ts';
import { createStore, DEFAULT_TENANT_SLUG } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { runCli } from '../cli.testkit.ts';

const NIN = '01019012138';

/** A store in `dir` under `key` with one source's credentials and a certificate (and its person) carrying NIN. */
async function seed(dir: string, key: Buffer): Promise<void> {
  writeFileSync(join(dir, 'certhub.yaml'), 'database: sqlite:./data/hub.db\n');
  const store = await createStore({ url: `sqlite:${join(dir, 'data', 'hub.db')}`, secretKey: key });
  await store.migrate();
  const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
  const source = await store.sources.upsertSourceFromConfig(tenant.id, {
    slug: 'frontcore-main',
    provider: 'frontcore',
    settings: {},
    credentials: { api_key: 'stored-api-key' },
  });
  const subject = { ...sampleCertificate(1).subject, national_id: NIN };
  await store.certificates.savePage(source.id, [sampleCertificate(1, { subject })], null, {
    resolvePeople: createPersonResolver(),
    now: new Date('2024-01-10T00:00:00Z'),
  });
  await store.close();
}

describe('certhub secret-key rotate', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env: { CERTHUB_CONFIG: 'certhub.yaml', ...env } });
  const keyFile = () => join(dir, 'data', 'secret.key');

  it('with the generated secret.key: re-encrypts everything under a new key, replaces the file (0600) and the data still answers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'certhub-rotate-'));
    const oldKey = loadSecretKey({ base64: undefined, dataDir: join(dir, 'data') });
    await seed(dir, oldKey);

    const run = await cli(['secret-key', 'rotate', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout) as { key: string; rotated: Record<string, number>; resumed: boolean };
    expect(answer).toMatchObject({ key: 'file', resumed: false, rotated: { sources: 1, people: 1, certificates: 1, certificate_versions: 1 } });
    expect(answer.rotated.identities).toBeGreaterThan(0);
    const newKey = Buffer.from(readFileSync(keyFile(), 'utf8').trim(), 'base64');
    expect(newKey).toHaveLength(32);
    expect(newKey.equals(oldKey)).toBe(false);
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(existsSync(`${keyFile()}.next`)).toBe(false);
    // The key never reaches the output.
    expect(run.stdout).not.toContain(newKey.toString('base64'));

    // Found by national id (its HMAC recomputed), and the stored credentials decrypt under the new key.
    const status = await cli(['status', '--nin', NIN, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ found: true });
    const store = await createStore({ url: `sqlite:${join(dir, 'data', 'hub.db')}`, secretKey: newKey });
    const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
    const [source] = await store.sources.listSources(tenant.id);
    expect(await store.sources.getSourceCredentials(tenant.id, source!.id)).toEqual({ api_key: 'stored-api-key' });
    await store.close();
    // The old key is refused now, with the one-line error.
    const stale = await cli(['status', '--nin', NIN], { CERTHUB_SECRET_KEY: oldKey.toString('base64') });
    expect(stale.code).toBe(2);
    expect(stale.stderr.trim()).toMatch(/^certhub: cannot decrypt stored secrets: CERTHUB_SECRET_KEY is not the key/);
  });

  it('with CERTHUB_SECRET_KEY: needs CERTHUB_NEW_SECRET_KEY, then re-encrypts under it and says to deploy it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'certhub-rotate-env-'));
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    await seed(dir, oldKey);
    const OLD = { CERTHUB_SECRET_KEY: oldKey.toString('base64') };

    const missing = await cli(['secret-key', 'rotate'], OLD);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(
      'certhub: set CERTHUB_NEW_SECRET_KEY to the new key (generate one with: openssl rand -base64 32); CERTHUB_SECRET_KEY stays the current one until the rotation is done',
    );
    const bad = await cli(['secret-key', 'rotate'], { ...OLD, CERTHUB_NEW_SECRET_KEY: 'not-a-key' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('certhub: CERTHUB_NEW_SECRET_KEY must be base64 of exactly 32 bytes');
    const same = await cli(['secret-key', 'rotate'], { ...OLD, CERTHUB_NEW_SECRET_KEY: oldKey.toString('base64') });
    expect(same.code).toBe(2);
    expect(same.stderr.trim()).toBe('certhub: CERTHUB_NEW_SECRET_KEY is the current key: nothing to rotate');

    const run = await cli(['secret-key', 'rotate'], { ...OLD, CERTHUB_NEW_SECRET_KEY: newKey.toString('base64') });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/re-encrypted under the new key: 1 source credential\(s\), 1 person national id\(s\), 1 certificate\(s\) with 1 version\(s\)/);
    expect(run.stdout).toMatch(/now set CERTHUB_SECRET_KEY to the new key/);
    expect(existsSync(keyFile())).toBe(false);
    expect((await cli(['status', '--nin', NIN], { CERTHUB_SECRET_KEY: newKey.toString('base64') })).code).toBe(0);
    expect((await cli(['status', '--nin', NIN], OLD)).code).toBe(2);
  });

  it('finishes a rotation that committed but stopped before replacing secret.key, and drops a leftover that never committed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'certhub-rotate-resume-'));
    const dataDir = join(dir, 'data');
    const oldKey = loadSecretKey({ base64: undefined, dataDir });
    await seed(dir, oldKey);

    // A leftover secret.key.next the database was never re-encrypted under: dropped, and the rotation goes ahead.
    writeSecretKeyFile(`${keyFile()}.next`, randomBytes(32));
    const first = await cli(['secret-key', 'rotate', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ resumed: false });
    const afterFirst = readFileSync(keyFile(), 'utf8');

    // As if the process died right after its commit: the database is under the next key, secret.key still the old one.
    const next = randomBytes(32);
    writeSecretKeyFile(`${keyFile()}.next`, next);
    const store = await createStore({ url: `sqlite:${join(dataDir, 'hub.db')}`, secretKey: Buffer.from(afterFirst.trim(), 'base64') });
    await store.rotateSecretKey(next);
    expect((await cli(['status', '--nin', NIN])).code).toBe(2);

    const resumed = await cli(['secret-key', 'rotate']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/finished an interrupted rotation: .*secret\.key now holds the new key/);
    expect(Buffer.from(readFileSync(keyFile(), 'utf8').trim(), 'base64').equals(next)).toBe(true);
    expect(existsSync(`${keyFile()}.next`)).toBe(false);
    expect((await cli(['status', '--nin', NIN])).code).toBe(0);
  });
});
