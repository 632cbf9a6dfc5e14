/**
 * toCertificate on RECORDED answers of the Open edX simulator (fixtures/, recorded once): a list page, single
 * credentials picked for their edge cases (revoked program / run, a whole-second `created` without fraction, a
 * Norwegian username, upper case, attributes, an `...a` run, a Norwegian course title, a time in the night
 * Europe changes clocks) and the catalog answers naming them. `credentials.truth.json` is the simulator's truth
 * for those credentials (person_key dropped).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePayload } from '../http/index.ts';
import { LIST_CREDENTIALS } from './client.ts';
import { drfInstant, toCatalogAchievement, toCertificate, type Titles } from './normalize.ts';
import { bulkLearnerCertStatusSchema, courseRunsPageSchema, credentialSchema, credentialsPageSchema, learnerCertStatusSchema, programsPageSchema, tokenResponseSchema, type Credential } from './schema.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

const page = credentialsPageSchema.parse(fixture('credentials-page.json'));
const edge = (fixture('credentials-edge.json') as unknown[]).map((c) => credentialSchema.parse(c));
const programs = programsPageSchema.parse(fixture('catalog-programs.json'));
const runs = courseRunsPageSchema.parse(fixture('catalog-course-runs.json'));
const truth = fixture('credentials.truth.json') as { external_id: string }[];
const titles: Titles = {
  programs: new Map(programs.results.map((p) => [p.uuid.toLowerCase(), p.title ?? null])),
  runs: new Map(runs.results.map((r) => [r.key, r.title ?? null])),
};
const ctx = { titles };
const untitled = { titles: { programs: new Map(), runs: new Map() } };

describe('toCertificate on recorded credentials', () => {
  const items: Credential[] = [...page.results, ...edge];

  it('equals the simulator truth field for field, for every recorded credential', () => {
    const ours = items.map((c) => {
      const { raw: _raw, ...cert } = toCertificate(c, ctx);
      return cert;
    });
    expect(ours.sort((a, b) => a.external_id.localeCompare(b.external_id))).toEqual(truth);
  });

  it('keeps the item exactly as served as raw', () => {
    const served = (fixture('credentials-edge.json') as unknown[])[0];
    expect(toCertificate(credentialSchema.parse(served), ctx).raw).toEqual(served);
  });

  it('revoked stays revoked, for programs and course runs', () => {
    const revoked = edge.filter((c) => c.status === 'revoked').map((c) => toCertificate(c, ctx));
    expect(revoked.map((c) => [c.status, c.achievement.type])).toEqual([
      ['revoked', 'program'],
      ['revoked', 'course_run'],
    ]);
  });

  it('a program is named by its uuid and catalog title and has no code; a run by its key, which is also its code', () => {
    const program = items.find((c) => c.credential.program_uuid) as Credential;
    const run = items.find((c) => c.credential.course_run_key) as Credential;
    expect(toCertificate(program, ctx).achievement).toEqual({ type: 'program', external_id: program.credential.program_uuid, title: titles.programs.get(String(program.credential.program_uuid)), code: null });
    expect(toCertificate(run, ctx).achievement).toEqual({ type: 'course_run', external_id: run.credential.course_run_key, title: titles.runs.get(String(run.credential.course_run_key)), code: run.credential.course_run_key });
    expect(toCatalogAchievement(run, ctx)).toEqual(toCertificate(run, ctx).achievement);
  });

  it('keeps a Norwegian, mixed-case username as spelled, as id and as email; a Norwegian title as served', () => {
    const bjorn = edge.find((c) => c.username.startsWith('Bjørn')) as Credential;
    expect(toCertificate(bjorn, ctx).subject).toEqual({ provider_user_id: 'Bjørn.Ærøy@Eksempel.NO', email: 'Bjørn.Ærøy@Eksempel.NO', first_name: null, last_name: null, date_of_birth: null });
    expect([...titles.runs.values()].some((t) => t !== null && /[æøå]/.test(t))).toBe(true);
  });

  it('a username that is no email gives no email', () => {
    expect(toCertificate({ ...(items[0] as Credential), username: 'ola_nordmann' }, ctx).subject).toMatchObject({ provider_user_id: 'ola_nordmann', email: null });
  });

  it('a created at a whole second (no fraction) and one in the night clocks change are UTC instants and UTC days', () => {
    const whole = edge.find((c) => !c.created.includes('.')) as Credential;
    expect(toCertificate(whole, ctx)).toMatchObject({ issued_at: whole.created, valid_from: whole.created.slice(0, 10) });
    const night = edge.find((c) => c.created === '2025-03-30T01:30:00Z') as Credential;
    expect(toCertificate(night, ctx)).toMatchObject({ issued_at: '2025-03-30T01:30:00Z', valid_from: '2025-03-30', valid_until: null, serial: null, file: { available: true } });
  });

  it('an id the catalog does not know leaves the title null', () => {
    expect(toCertificate(items[0] as Credential, untitled).achievement.title).toBeNull();
  });
});

describe('drfInstant', () => {
  it.each([
    ['2025-09-17T09:28:35.075376Z', '2025-09-17T09:28:35.075Z'],
    // Cut, not rounded (the truth floors microseconds).
    ['2025-09-17T09:28:35.999999Z', '2025-09-17T09:28:35.999Z'],
    ['2025-09-17T09:28:35Z', '2025-09-17T09:28:35Z'],
    ['2025-09-17T09:28:35.5Z', '2025-09-17T09:28:35.500Z'],
    // Zone-less: UTC (Open edX TIME_ZONE), never the host's zone.
    ['2025-03-30T02:30:00', '2025-03-30T02:30:00Z'],
    ['2025-10-26 02:30:00.123456', '2025-10-26T02:30:00.123Z'],
    // Offsets either side of the European DST changes.
    ['2025-03-30T03:30:00+02:00', '2025-03-30T01:30:00Z'],
    ['2025-03-30T01:30:00+01:00', '2025-03-30T00:30:00Z'],
    ['2025-10-26T02:30:00+01:00', '2025-10-26T01:30:00Z'],
    ['2025-10-26T02:30:00+0200', '2025-10-26T00:30:00Z'],
    ['2025-12-31T23:30:00-05:00', '2026-01-01T04:30:00Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00Z'],
  ])('%s -> %s', (text, iso) => {
    expect(drfInstant(text)).toBe(iso);
  });

  it.each(['', 'yesterday', '2025-02-30T00:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01T24:00:00Z', '2025-01-01'])('%j is no datetime', (text) => {
    expect(drfInstant(text)).toBeNull();
  });

  it('a credential whose created is no datetime has no issue date (kept, not dropped)', () => {
    expect(toCertificate({ ...(page.results[0] as Credential), created: 'garbage' }, ctx)).toMatchObject({ issued_at: null, valid_from: null });
  });
});

describe('payload schemas', () => {
  it('accept the recorded token, status and catalog answers', () => {
    expect(tokenResponseSchema.safeParse(fixture('token.json')).success).toBe(true);
    const status = learnerCertStatusSchema.parse(fixture('learner-cert-status.json'));
    expect(status.status[0]?.course_run.key).toMatch(/^course-v1:/);
    expect(bulkLearnerCertStatusSchema.safeParse([fixture('learner-cert-status.json'), { lms_user_id: 8674309, username: null, status: [] }]).success).toBe(true);
  });

  it("accept the doc's own example (no type, no mode, www.example.com, the v1 id)", () => {
    const doc = {
      count: 1,
      next: null,
      previous: null,
      results: [
        {
          id: 1,
          username: 'admin',
          credential: { credential_id: 1, program_uuid: '244af8cb-7cdd-487e-afc0-aa0b6391b1fd' },
          status: 'revoked',
          download_url: 'www.example.com',
          uuid: 'a2810ab0-c084-43de-a9db-fa484fcc82bc',
          attributes: [{ name: 'whitelist_reason', value: 'Your reason for whitelisting.' }],
          created: '2015-12-17T09:28:35.075376Z',
          modified: '2016-01-02T12:58:15.744188Z',
          certificate_url: 'http://0.0.0.0:8004/credentials/a2810ab0c08443dea9dbfa484fcc82bc/',
        },
      ],
    };
    const parsed = parsePayload(LIST_CREDENTIALS, credentialsPageSchema, doc);
    expect(toCertificate(parsed.results[0] as Credential, untitled)).toMatchObject({ status: 'revoked', subject: { email: null }, achievement: { type: 'program', title: null } });
  });

  it('reject an unknown status or a credential naming nothing, with the endpoint and the path in the message', () => {
    const item = (fixture('credentials-page.json') as { results: Record<string, unknown>[] }).results[0] ?? {};
    expect(() => parsePayload(LIST_CREDENTIALS, credentialsPageSchema, { count: 1, next: null, results: [{ ...item, status: 'pending' }] })).toThrow(/GET \/api\/v2\/credentials\/ returned an unexpected payload: results\.0\.status: /);
    expect(() => parsePayload(LIST_CREDENTIALS, credentialsPageSchema, { count: 1, next: null, results: [{ ...item, credential: { credential_id: 1 } }] })).toThrow(/results\.0\.credential: has neither program_uuid nor course_run_key/);
    expect(() => parsePayload(LIST_CREDENTIALS, credentialsPageSchema, { detail: 'Not found.' })).toThrow(/unexpected payload: next: /);
  });
});
