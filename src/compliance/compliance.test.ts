import { expect, it } from 'vitest';
import type { NormalizedCertificate } from '../domain/certificate.ts';
import { createPersonResolver } from '../identity/index.ts';
import type { Store } from '../store/index.ts';
import { describeEachDialect, sampleCertificate, type StoreHarness } from '../store/dialects.testkit.ts';
import { createComplianceService, type ComplianceRow, type ExpiringItem } from './index.ts';
import { databaseOf } from '../store/database.testkit.ts';

const T1 = new Date('2025-01-10T08:00:00.000Z');
const T2 = new Date('2025-03-01T08:00:00.000Z');
// Oslo calendar day 2025-06-15.
const NOW = new Date('2025-06-15T10:00:00.000Z');
const SAFE = { type: 'course', external_id: 'SAFE-101', title: 'Safety Training', code: 'SAFE-101' } as const;

function cert(n: number, overrides: Partial<NormalizedCertificate> = {}): NormalizedCertificate {
  return sampleCertificate(n, { achievement: { ...SAFE }, ...overrides });
}

async function setup(h: StoreHarness) {
  const store = await h.open();
  const a = (await store.tenants.getTenantBySlug('default'))!;
  const b = await store.tenants.createTenant({ slug: 'globex', name: 'Globex' });
  const source = (tenantId: string, slug: string, provider: 'frontcore' | 'springest') =>
    store.sources.upsertSourceFromConfig(tenantId, { slug, provider, settings: {}, credentials: { api_key: 'k' } });
  const frontcore = await source(a.id, 'frontcore-main', 'frontcore');
  const springest = await source(a.id, 'springest-nl', 'springest');
  const theirs = await source(b.id, 'frontcore-main', 'frontcore');
  const resolvePeople = createPersonResolver();
  const seed = (sourceId: string, certs: NormalizedCertificate[], now: Date) =>
    store.certificates.savePage(sourceId, certs, null, { resolvePeople, now });
  return { store, a: a.id, b: b.id, frontcore: frontcore.id, springest: springest.id, theirs: theirs.id, seed };
}

async function all<T>(batches: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of batches) out.push(...batch);
  return out;
}

const emailOf = (store: Store, tenantId: string) => async (personId: string | null) =>
  personId === null ? null : ((await store.people.primaryEmails(tenantId, [personId])).get(personId) ?? null);

describeEachDialect('compliance', (h) => {
  it('reads the certificates a rule can match through the achievement index, codes through the catalog, as of an instant', async () => {
    const { store, a, frontcore, springest, theirs, seed } = await setup(h);
    await seed(
      frontcore,
      [cert(1), cert(2, { achievement: { type: 'course', external_id: 'F1', title: 'Fire drill', code: 'fire-1' } })],
      T1,
    );
    // Another type with the same external id, and no code.
    await seed(springest, [cert(3, { achievement: { type: 'certification', external_id: 'SAFE-101', title: null, code: null } })], T1);
    await seed(theirs, [cert(4)], T1);
    await seed(frontcore, [cert(1, { valid_until: '2025-12-31' })], T2);

    const external = (matchers: Parameters<Store['certificates']['listCertificatesMatching']>[1], opts = {}) =>
      store.certificates.listCertificatesMatching(a, matchers, opts).then((cs) => cs.map((c) => `${c.source}/${c.external_id}`).sort());
    expect(await external([{ external_id: 'SAFE-101' }])).toEqual(['frontcore-main/ext-1', 'springest-nl/ext-3']);
    expect(await external([{ external_id: 'SAFE-101', type: 'certification' }])).toEqual(['springest-nl/ext-3']);
    expect(await external([{ external_id: 'SAFE-101', provider: 'frontcore' }])).toEqual(['frontcore-main/ext-1']);
    expect(await external([{ external_id: 'SAFE-101', source: 'springest-nl' }])).toEqual(['springest-nl/ext-3']);
    expect(await external([{ code: 'FIRE-1' }])).toEqual(['frontcore-main/ext-2']);
    expect(await external([{ code: 'safe-101' }, { code: 'fire-1' }])).toEqual(['frontcore-main/ext-1', 'frontcore-main/ext-2']);
    expect(await external([{ external_id: 'SAFE-101', code: 'OTHER' }])).toEqual([]);
    expect(await external([{ code: 'NOPE' }])).toEqual([]);

    const [now] = await store.certificates.listCertificatesMatching(a, [{ code: 'SAFE-101' }]);
    expect(now).toMatchObject({ valid_until: '2025-12-31' });
    const [then] = await store.certificates.listCertificatesMatching(a, [{ code: 'SAFE-101' }], { asOf: '2025-02-01T00:00:00.000Z' });
    expect(then).toMatchObject({ external_id: 'ext-1', valid_until: null, updated_at: T1.toISOString() });
    expect(await store.certificates.listCertificatesMatching(a, [{ code: 'SAFE-101' }], { asOf: '2025-01-01T00:00:00.000Z' })).toEqual([]);
  });

  it('computes every unmerged person’s state, page by page, filtered by q, as of an instant', async () => {
    const { store, a, frontcore, seed } = await setup(h);
    await seed(
      frontcore,
      [
        cert(1, { valid_until: '2026-12-31' }),
        cert(2, { valid_until: '2025-07-01' }),
        cert(3, { valid_until: '2025-01-31' }),
        cert(4, { achievement: { type: 'course', external_id: 'F1', title: 'Fire', code: 'FIRE-1' } }),
        cert(5, { valid_from: '2024-02-15', valid_until: null }),
        cert(6, { subject: { provider_user_id: 'u-6', email: 'x_y%z@example.com', first_name: 'ÅSE', last_name: 'Lid', date_of_birth: null } }),
      ],
      T1,
    );
    // Person 3's certificate renewed in March.
    await seed(frontcore, [cert(3, { valid_until: '2027-01-31' })], T2);
    const email = emailOf(store, a);
    const people = await store.people.listPeopleInIdOrder(a, { limit: 100 });
    const idOf = async (address: string) => {
      for (const p of people) if ((await email(p.id)) === address) return p.id;
      throw new Error(address);
    };
    // Person 4 was merged into person 1: no longer listed.
    await databaseOf(store).updateTable('people').set({ merged_into: await idOf('person1@example.com') }).where('id', '=', await idOf('person4@example.com')).execute();

    const requirement = await store.requirements.createRequirement(a, {
      name: 'Safety',
      rule: { any_of: [{ code: 'SAFE-101' }], valid_months_without_end: 24, warn_days: 30 },
    });
    const service = createComplianceService({ store, now: () => NOW, batchSize: 2 });
    const states = (rows: ComplianceRow[]) => Object.fromEntries(rows.map((r): [string, string] => [r.person.email ?? '', r.state]));

    const whole = await all(service.complianceRows(a, requirement, {}).batches);
    expect(states(whole)).toEqual({
      'person1@example.com': 'compliant',
      'person2@example.com': 'expiring',
      'person3@example.com': 'compliant',
      'person5@example.com': 'compliant',
      'x_y%z@example.com': 'compliant',
    });
    expect(whole.map((r) => r.person.id)).toEqual([...whole.map((r) => r.person.id)].sort());
    expect(whole.find((r) => r.person.email === 'person5@example.com')).toMatchObject({ valid_until: '2026-02-14', certificate: { valid_until: null } });

    // Pages of 2 over batches of 2: every person once, in order, the same summary on each page.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof service.compliancePage>> = await service.compliancePage(a, requirement, { limit: 2, cursor });
      expect(page.summary).toEqual({ compliant: 4, expiring: 1, expired: 0, missing: 0, total: 5 });
      seen.push(...page.items.map((r) => r.person.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(whole.map((r) => r.person.id));

    // q: case-insensitive on both dialects, LIKE wildcards literal.
    expect(states((await service.compliancePage(a, requirement, { limit: 10, q: 'åse' })).items)).toEqual({ 'x_y%z@example.com': 'compliant' });
    expect(states((await service.compliancePage(a, requirement, { limit: 10, q: 'NORDMANN 2' })).items)).toEqual({ 'person2@example.com': 'expiring' });
    expect((await service.compliancePage(a, requirement, { limit: 10, q: 'y%z' })).summary.total).toBe(1);
    expect((await service.compliancePage(a, requirement, { limit: 10, q: '_' })).summary.total).toBe(1);
    const onlyExpiring = await service.compliancePage(a, requirement, { limit: 10, states: ['expiring', 'expired'] });
    expect(states(onlyExpiring.items)).toEqual({ 'person2@example.com': 'expiring' });

    // As of February person 3's certificate had ended (January 31).
    const feb = await all(service.complianceRows(a, requirement, { asOf: '2025-02-01T00:00:00.000Z' }).batches);
    expect(states(feb)).toMatchObject({ 'person3@example.com': 'expired', 'person2@example.com': 'compliant' });
    // Nobody existed before the first sync.
    expect(await all(service.complianceRows(a, requirement, { asOf: '2025-01-01T00:00:00.000Z' }).batches)).toEqual([]);
  });

  it('lists certificates ending in the window, soonest first, across batches and pages', async () => {
    const { store, a, frontcore, springest, theirs, seed } = await setup(h);
    await seed(
      frontcore,
      [
        cert(1, { valid_until: '2025-06-15' }), // ends today: still counts
        cert(2, { valid_until: '2025-06-14' }), // ended yesterday
        cert(3, { valid_until: '2025-07-15' }), // the window's last day
        cert(4, { valid_until: '2025-07-16' }), // just outside
        cert(5, { valid_until: '2025-06-20', status: 'pending' }),
        cert(6, { valid_until: '2025-06-20', valid_from: '2025-06-16' }), // not started
        cert(7, { valid_until: '2025-06-20' }),
        cert(8, { valid_until: null, valid_from: '2023-07-01' }), // no end; 24 months -> 2025-06-30
      ],
      T1,
    );
    await seed(springest, [cert(9, { valid_until: '2025-06-20' })], T1);
    await seed(theirs, [cert(10, { valid_until: '2025-06-16' })], T1);
    const service = createComplianceService({ store, now: () => NOW, batchSize: 2 });
    const ends = (items: ExpiringItem[]) => items.map((i) => `${i.valid_until}/${i.certificate.external_id}`);

    const report = service.expiringRows(a, { days: 30 });
    expect([report.from, report.to]).toEqual(['2025-06-15', '2025-07-15']);
    const rows = await all(report.batches);
    expect(ends(rows)).toEqual(['2025-06-15/ext-1', '2025-06-20/ext-7', '2025-06-20/ext-9', '2025-07-15/ext-3']);
    expect(rows[0]).toMatchObject({ days_left: 0, person: { email: 'person1@example.com', name: 'Kari Nordmann 1' } });
    // ext-7 and ext-9 share a day: certificate id decides, as the SQL did.
    expect([rows[1]!.certificate.id, rows[2]!.certificate.id]).toEqual([rows[1]!.certificate.id, rows[2]!.certificate.id].sort());

    const paged: ExpiringItem[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof service.expiringPage>> = await service.expiringPage(a, { days: 30, limit: 3, cursor });
      paged.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(ends(paged)).toEqual(ends(rows));

    expect(ends(await all(service.expiringRows(a, { days: 30, provider: 'springest' }).batches))).toEqual(['2025-06-20/ext-9']);
    expect(ends(await all(service.expiringRows(a, { days: 30, source: 'frontcore-main' }).batches))).toHaveLength(3);

    const requirement = await store.requirements.createRequirement(a, {
      name: 'Safety',
      rule: { any_of: [{ code: 'SAFE-101', provider: 'frontcore' }], valid_months_without_end: 24, warn_days: 30 },
    });
    const byRequirement = await all(service.expiringRows(a, { days: 30, requirement }).batches);
    expect(ends(byRequirement)).toEqual(['2025-06-15/ext-1', '2025-06-20/ext-7', '2025-06-30/ext-8', '2025-07-15/ext-3']);
    const first = await service.expiringPage(a, { days: 30, requirement, limit: 2 });
    const second = await service.expiringPage(a, { days: 30, requirement, limit: 2, cursor: first.next_cursor });
    expect([...ends(first.items), ...ends(second.items)]).toEqual(ends(byRequirement));
    expect(second.next_cursor).toBeNull();
  });
});
