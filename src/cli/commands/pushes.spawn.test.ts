/** `certhub pushes rules|list|retry` as a user runs them, on a store with a push rule and a failed push. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersonResolver } from '../../identity/index.ts';
import { loadSecretKey } from '../../secrets.ts';
import { databaseOf } from '../../store/database.testkit.ts';
import { createStore, DEFAULT_TENANT_SLUG, type Store } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { runCli } from '../cli.testkit.ts';

const T = new Date('2026-06-11T10:00:00Z');

describe('certhub pushes (the binary)', () => {
  let dir: string;
  let failedId = '';
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { CERTHUB_CONFIG: 'certhub.yaml' } });
  const openStore = (): Promise<Store> =>
    createStore({ url: `sqlite:${join(dir, 'data', 'hub.db')}`, secretKey: loadSecretKey({ base64: undefined, dataDir: join(dir, 'data') }) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certhub-pushes-'));
    writeFileSync(join(dir, 'certhub.yaml'), 'database: sqlite:./data/hub.db\n');
    const store = await openStore();
    await store.migrate();
    const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
    const fc = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    const sp = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'sp', provider: 'springest', settings: { base_url: 'https://api.springest.example' }, credentials: { api_key: 'k' } });
    await store.certificates.savePage(fc.id, [sampleCertificate(1), sampleCertificate(2)], null, { now: T, resolvePeople: createPersonResolver() });
    await store.pushes.createRule(
      tenant.id,
      { name: 'Safety to Springest', match: { achievement: { source: 'fc', external_id: 'SAFE-101' } }, target_source_id: sp.id, target: { certification_id: '42', verify_within_days: 30 }, target_key: 'certification:42' },
      { now: T },
    );
    const pushes = (await store.pushes.listPushes(tenant.id)).items;
    expect(pushes).toHaveLength(2);
    failedId = pushes[0]!.id;
    await databaseOf(store).updateTable('pushes').set({ state: 'failed', last_error: 'Springest answered 400: valid_until is required' }).where('id', '=', failedId).execute();
    await databaseOf(store).updateTable('outbox').set({ status: 'failed' }).where('subject_id', '=', failedId).execute();
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the rules and the pushes, failed ones with their reason', async () => {
    const rules = await cli(['pushes', 'rules']);
    expect(rules.code, rules.stderr).toBe(0);
    expect(rules.stdout).toMatch(/Safety to Springest {2}active {2}achievement .*SAFE-101.* from any source -> sp as certification 42/);
    const failed = await cli(['pushes', 'list', '--state', 'failed']);
    expect(failed.code, failed.stderr).toBe(0);
    expect(failed.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${failedId} {2}failed {2}certificate .* -> certification:42 {2}Springest answered 400: valid_until is required$`))]);
    const all = JSON.parse((await cli(['pushes', 'list', '--rule', 'Safety to Springest', '--json'])).stdout) as { id: string; state: string; tenant_id?: string }[];
    expect(all.map((p) => p.state).sort()).toEqual(['failed', 'queued']);
    expect(all.every((p) => p.tenant_id === undefined)).toBe(true);
  });

  it('retries a failed push; bad input is one line with a non-zero exit', async () => {
    const retried = await cli(['pushes', 'retry', failedId]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain(`push ${failedId} is due again (queued)`);
    expect((await cli(['pushes', 'list', '--state', 'failed'])).stdout.trim()).toBe('no pushes');
    const unknown = await cli(['pushes', 'retry', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain('push nope not found');
    const badState = await cli(['pushes', 'list', '--state', 'lost']);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain('--state must be one of');
    const badRule = await cli(['pushes', 'list', '--rule', 'nope']);
    expect(badRule.code).toBe(1);
    expect(badRule.stderr).toContain('no push rule nope');
  });
});
