/** `certhub status` as a user runs it, against a SQLite file store seeded through the store API. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidNorwegianNationalId } from '../../domain/identity.ts';
import { createPersonResolver } from '../../identity/index.ts';
import { createStore, DEFAULT_TENANT_SLUG } from '../../store/index.ts';
import { sampleCertificate } from '../../store/sample-certificate.testkit.ts';
import { runCli } from '../cli.testkit.ts';

const nin = (() => {
  for (let i = 10000; i < 99999; i++) if (isValidNorwegianNationalId(`150190${i}`)) return `150190${i}`;
  throw new Error('no valid nin');
})();

const course = (code: string, extra: Record<string, unknown> = {}) => ({
  achievement: { type: 'course' as const, external_id: `id-${code}`, title: `Course ${code}`, code },
  ...extra,
});

describe('certhub status', () => {
  let cwd: string;
  const key = randomBytes(32);
  const env = () => ({ CERTHUB_CONFIG: 'certhub.yaml', CERTHUB_SECRET_KEY: key.toString('base64') });
  const status = (...args: string[]) => runCli(['status', ...args], { cwd, env: env() });

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'certhub-status-'));
    writeFileSync(join(cwd, 'certhub.yaml'), 'database: sqlite:./hub.db\n');
    const store = await createStore({ url: `sqlite:${join(cwd, 'hub.db')}`, secretKey: key });
    await store.migrate();
    const tenant = (await store.tenants.getTenantBySlug(DEFAULT_TENANT_SLUG))!;
    const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'frontcore-main', provider: 'frontcore', settings: {}, credentials: null });
    const subject = { ...sampleCertificate(1).subject, national_id: nin };
    await store.certificates.savePage(
      source.id,
      [
        sampleCertificate(1, { external_id: 'valid', subject, ...course('A-VALID', { valid_until: '2099-01-01' }) }),
        sampleCertificate(1, { external_id: 'expired', ...course('A-EXPIRED', { valid_until: '2020-01-01' }) }),
        sampleCertificate(1, { external_id: 'revoked', ...course('A-REVOKED', { status: 'revoked' }) }),
        sampleCertificate(2, { subject: { ...sampleCertificate(2).subject, last_name: 'Twin' } }),
        sampleCertificate(3, { subject: { ...sampleCertificate(3).subject, last_name: 'Twin' } }),
      ],
      { seeded: true },
      { resolvePeople: createPersonResolver(), now: new Date('2024-01-10T00:00:00Z') },
    );
    await store.requirements.createRequirement(tenant.id, { name: 'Safety', rule: { any_of: [{ code: 'A-EXPIRED' }, { code: 'A-REVOKED' }], valid_months_without_end: null, warn_days: 30 } });
    await store.close();
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('prints a table of what the person holds, or the API answer as JSON, by every identification', async () => {
    const [table, json, byName, byUser, byNin] = await Promise.all([
      status('--email', 'PERSON1@example.com'),
      status('--email', 'person1@example.com', '--json'),
      status('--dob', '1990-01-15', '--name', 'kari NORDMANN 1', '--achievement', 'A-VALID', '--achievement', 'id-A-EXPIRED', '--achievement', 'NOPE', '--json'),
      status('--source', 'frontcore-main', '--user-id', 'u-1', '--requirement', 'Safety'),
      status('--nin', nin, '--json'),
    ]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^person \S+ \(by email\), as of /);
    expect(table.stdout).toMatch(/ACHIEVEMENT\s+STANDING\s+VALID UNTIL\s+CERTIFICATE/);
    expect(table.stdout).toMatch(/frontcore-main course A-VALID \(Course A-VALID\)\s+valid\s+2099-01-01/);
    expect(table.stdout).toMatch(/A-EXPIRED .*expired\s+2020-01-01/);
    expect(table.stdout).toMatch(/A-REVOKED .*revoked/);

    const answer = JSON.parse(json.stdout) as { found: boolean; person_id: string; achievements: { standing: string; certificate: { external_id: string } | null }[] };
    expect(json.code).toBe(0);
    expect(answer.found).toBe(true);
    expect(answer.achievements.map((a) => [a.standing, a.certificate?.external_id])).toEqual([
      ['expired', 'expired'],
      ['revoked', 'revoked'],
      ['valid', 'valid'],
    ]);

    // A code is matched as a code, anything else as an external id.
    const named = JSON.parse(byName.stdout) as typeof answer;
    expect(byName.code).toBe(0);
    expect(named.person_id).toBe(answer.person_id);
    expect(named.achievements.map((a) => a.standing)).toEqual(['valid', 'expired', 'missing']);

    expect(byUser.code).toBe(0);
    expect(byUser.stdout).toMatch(/requirement Safety: expired \(until 2020-01-01\)/);

    expect(byNin.code).toBe(0);
    expect((JSON.parse(byNin.stdout) as typeof answer).person_id).toBe(answer.person_id);
    expect(byNin.stdout + byNin.stderr).not.toContain(nin);
  }, 60_000);

  it('as of an instant before the certificates were seen: found, holding nothing', async () => {
    const run = await status('--email', 'person1@example.com', '--achievement', 'A-VALID', '--as-of', '2023-01-01T00:00:00Z', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ as_of: '2023-01-01T00:00:00.000Z', achievements: [{ standing: 'missing', certificate: null }] });
  }, 30_000);

  it('exit 1 with one line when nobody (or more than one person) matches; exit 2 for bad usage', async () => {
    const [nobody, nobodyJson, twins, two, none, halfName, badDate, badReq, badNin] = await Promise.all([
      status('--email', 'nobody@example.com'),
      status('--email', 'nobody@example.com', '--json'),
      status('--dob', '1990-01-15', '--name', 'Kari Twin'),
      status('--email', 'a@example.com', '--nin', nin),
      status('--requirement', 'Safety'),
      status('--name', 'Kari'),
      status('--email', 'person1@example.com', '--as-of', 'last week'),
      status('--email', 'person1@example.com', '--requirement', 'Nope'),
      status('--nin', '12345678901'),
    ]);
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toBe('');
    expect(nobody.stderr).toBe('certhub: no person matches --email nobody@example.com\n');
    expect(nobodyJson.code).toBe(1);
    expect(JSON.parse(nobodyJson.stdout)).toMatchObject({ found: false, achievements: [] });
    expect(twins.code).toBe(1);
    expect(twins.stderr).toMatch(/^certhub: 2 people match Kari Twin born 1990-01-15/);
    for (const [run, message] of [
      [two, /give exactly one of --email, --nin/],
      [none, /give exactly one of/],
      [halfName, /--dob and --name go together/],
      [badDate, /--as-of: must be an ISO-8601 instant/],
      [badReq, /unknown requirement "Nope"/],
      [badNin, /--nin: must be a national identification number/],
    ] as const) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toContain(nin);
    }
  }, 60_000);
});
