/**
 * The scale: bulk status for 10,000 people on a store of 1,000,000 certificates, over HTTP, checked against
 * the answer computed from the generated data itself (with the domain rule), not from the code under test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../api/app.testkit.ts';
import { bestStanding, evaluateRequirement, type AchievementMatcher, type RequirementRule } from '../domain/requirement.ts';
import { createStore } from '../store/index.ts';
import { asDomainCertificate, certificatesOf, courseCode, loadFixture, personId, queryFor } from './bulk-fixture.testkit.ts';

const PEOPLE = 100_000;
const NOW = new Date('2025-06-01T10:00:00Z');
/** Every 10th person, in a shuffled-looking order. */
const ASKED = Array.from({ length: 10_000 }, (_, k) => ((k * 7919) % 10_000) * 10 + 3);

interface Result {
  index: number;
  found: boolean;
  person_id: string | null;
  achievements: { standing: string; valid_until: string | null; certificate: { id: string; validity: string } | null }[];
  requirement?: { state: string; standing: string; valid_until: string | null; certificate: { id: string } | null } | null;
  error?: unknown;
}

describe('bulk status: 10,000 people on 1,000,000 certificates', () => {
  let dir: string;
  let hub: TestHub;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certhub-bulk-'));
    const file = join(dir, 'hub.db');
    const secretKey = randomBytes(32);
    const store = await createStore({ url: `sqlite:${file}`, secretKey });
    hub = await createTestHub({ store, now: () => NOW });
    const loaded = await loadFixture({ file, secretKey, tenantId: hub.a.id, sourceId: hub.a.source.id, sourceSlug: hub.a.source.slug }, PEOPLE, NOW);
    expect(loaded.certificates).toBe(PEOPLE * 10);
    console.log(`loaded ${loaded.certificates} certificates in ${Math.round(loaded.ms)} ms`);
  }, 300_000);
  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bulk = async (body: Record<string, unknown>): Promise<Result[]> => {
    const people = ASKED.map((i) => queryFor(i, hub.a.source.slug));
    const res = await hub.call('POST', '/v1/status/bulk', { key: hub.a.readKey, body: { people, ...body } });
    expect(res.statusCode).toBe(200);
    const { results } = res.json<{ results: Result[] }>();
    expect(results).toHaveLength(ASKED.length);
    return results;
  };

  it('by achievements: every standing, valid_until and proving certificate equals the direct computation', async () => {
    const matchers: AchievementMatcher[] = [{ code: courseCode(3) }, { code: courseCode(7) }, { type: 'course', external_id: courseCode(11) }];
    const t0 = performance.now();
    const results = await bulk({ achievements: matchers });
    const ms = performance.now() - t0;
    const seen = new Set<string>();
    ASKED.forEach((i, k) => {
      const certs = certificatesOf(i, NOW).map((c) => asDomainCertificate(c, i, hub.a.source.slug));
      const r = results[k]!;
      expect(r.index).toBe(k);
      expect(r.person_id).toBe(personId(i));
      const expected = matchers.map((m) => {
        const s = bestStanding(certs, [m], { at: NOW, warnDays: 30, validMonthsWithoutEnd: null });
        seen.add(s.standing);
        return { standing: s.standing, valid_until: s.valid_until, certificate: s.certificate?.id ?? null };
      });
      expect(r.achievements.map((a) => ({ standing: a.standing, valid_until: a.valid_until, certificate: a.certificate?.id ?? null }))).toEqual(expected);
    });
    // The data exercises every standing.
    expect([...seen].sort()).toEqual(['expired', 'expiring', 'missing', 'revoked', 'valid']);
    console.log(`bulk status by achievements: ${ASKED.length} people in ${Math.round(ms)} ms`);
  }, 90_000);

  it('against a requirement with a fallback validity: state and certificate equal the direct computation', async () => {
    const rule: RequirementRule = { any_of: [{ code: courseCode(1) }, { code: courseCode(2) }, { code: courseCode(5) }], valid_months_without_end: 24, warn_days: 60 };
    const req = await hub.store.requirements.createRequirement(hub.a.id, { name: 'Scale', rule });
    const results = await bulk({ requirement: 'Scale' });
    const states = new Map<string, number>();
    ASKED.forEach((i, k) => {
      const certs = certificatesOf(i, NOW).map((c) => asDomainCertificate(c, i, hub.a.source.slug));
      const e = evaluateRequirement(certs, rule, { at: NOW });
      states.set(e.state, (states.get(e.state) ?? 0) + 1);
      expect(results[k]?.requirement).toMatchObject({ state: e.state, standing: e.standing, valid_until: e.valid_until, certificate: e.certificate === null ? null : { id: e.certificate.id } });
    });
    expect(req.id).toEqual(expect.any(String));
    expect([...states.keys()].sort()).toEqual(['compliant', 'expired', 'expiring', 'missing']);
  }, 90_000);
});
