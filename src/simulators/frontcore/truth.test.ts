/**
 * FrontCore data and ground truth: same seed -> same bytes, the variety the connector must cope
 * with, and truth == what the API serves (walked over HTTP and normalized here independently).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatZoneless, parseZoneless } from '../common/time.ts';
import { AS_OF, normalizeServed, startFrontcore, walkApi, type DiplomaJson, type Harness } from './frontcore.testkit.ts';
import { createZonelessClock } from './zoneless.ts';

describe('FrontCore ground truth', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startFrontcore();
  });
  afterAll(() => h.close());

  it('truth() is exactly what the API serves, walked via participants -> diplomas and normalized independently', async () => {
    const served = (await walkApi(h)).map(normalizeServed).sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0));
    const truth = h.fc.truth();
    expect(truth.map(({ person_key: _k, ...rest }) => rest)).toEqual(served);
    expect(await (await h.control('GET', '/truth')).json()).toEqual(truth);
  });

  it('person_key names the world person behind every diploma (same name and birth date)', () => {
    const people = new Map(h.fc.data.holders.map((x) => [x.key, x]));
    for (const t of h.fc.truth()) {
      const p = people.get(t.person_key);
      expect(p?.firstName).toBe(t.subject.first_name);
      expect(p?.dateOfBirth).toBe(t.subject.date_of_birth);
    }
  });

  it('has the variety of the real thing: deleted, pre-issued (not yet valid), old and recent, unnumbered, 1-6 per person', () => {
    const truth = h.fc.truth();
    const deleted = truth.filter((t) => t.status === 'deleted').length / truth.length;
    expect(deleted).toBeGreaterThan(0.02);
    expect(deleted).toBeLessThan(0.1);
    expect(truth.some((t) => (t.valid_from ?? '') > AS_OF)).toBe(true);
    expect(truth.some((t) => (t.valid_from ?? '') < '2022-01-01')).toBe(true);
    expect(truth.some((t) => (t.valid_from ?? '') > '2026-04-01' && (t.valid_from ?? '') <= AS_OF)).toBe(true);
    expect(truth.some((t) => t.serial === null)).toBe(true);
    expect(new Set(truth.map((t) => t.achievement.code)).size).toBeGreaterThanOrEqual(12);
    const d = h.fc.data;
    for (let u = 0; u < d.users.length; u++) {
      const n = truth.filter((t) => t.subject.provider_user_id === String(d.users.id[u])).length;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(d.users.second[u] === 1 ? 2 : 6);
    }
  });

  it('users are the world people: email as FrontCore spells it, NIN when the world has one, a second private account, near-duplicates apart', async () => {
    const d = h.fc.data;
    const byKey = new Map<string, DiplomaJson['user'][]>();
    const personOf = new Map(h.fc.truth().map((t) => [t.external_id, t.person_key]));
    for (const item of await walkApi(h)) {
      const holder = d.holders.find((x) => x.key === personOf.get(String(item.id)));
      if (!holder) throw new Error('no holder');
      const list = byKey.get(holder.key) ?? [];
      if (!list.some((u) => u.id === item.user.id)) list.push(item.user);
      byKey.set(holder.key, list);
    }
    let variants = 0;
    for (const holder of d.holders) {
      const users = byKey.get(holder.key) ?? [];
      const primary = users.find((u) => u.email === holder.email);
      expect(primary, holder.key).toBeDefined();
      expect(primary?.national_identification_number).toBe(holder.nationalId);
      if (holder.world && holder.email !== holder.world.email) variants++;
      if (holder.secondEmail !== null) {
        const second = users.find((u) => u.email === holder.secondEmail);
        expect(second?.id).not.toBe(primary?.id);
        expect([second?.firstname, second?.lastname, second?.date_of_birth]).toEqual([primary?.firstname, primary?.lastname, primary?.date_of_birth]);
      }
      const twin = holder.world?.nearDuplicateOf;
      if (twin) {
        const other = byKey.get(twin)?.[0];
        if (other) expect(other.id).not.toBe(primary?.id);
      }
    }
    expect(variants).toBeGreaterThan(0);
    expect(d.holders.some((x) => x.secondEmail !== null)).toBe(true);
  });
});

describe('FrontCore determinism', () => {
  it('same seed -> same responses byte for byte (but for the port); another seed differs', async () => {
    const [a, b, c] = await Promise.all([startFrontcore({ seed: 42 }), startFrontcore({ seed: 42 }), startFrontcore({ seed: 43 })]);
    try {
      const paths = ['/v2/participants?limit=250&include[]=attendance', '/v2/participants?limit=250&page=2', `/v2/diplomas?user_id=${a.fc.data.users.id[3]}`, `/v2/diplomas?user_id=${a.fc.data.users.id[50]}&ttl=60`];
      const text = async (x: Harness, p: string): Promise<string> => (await (await x.get(p)).text()).replaceAll(x.base, 'ORIGIN');
      for (const p of paths) expect(await text(a, p)).toBe(await text(b, p));
      expect(JSON.stringify(a.fc.truth())).toBe(JSON.stringify(b.fc.truth()));
      expect(a.key).toBe(b.key);
      expect(JSON.stringify(a.fc.truth())).not.toBe(JSON.stringify(c.fc.truth()));
      expect(a.key).not.toBe(c.key);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describe('FrontCore zone-less time', () => {
  it('prints exactly what common/time.ts prints, across both DST changes, and reads back the repeated hour like parseZoneless', () => {
    const zc = createZonelessClock('Europe/Oslo');
    for (const start of [Date.parse('2025-03-29T20:00:00Z'), Date.parse('2025-10-25T20:00:00Z')]) {
      for (let ms = start; ms < start + 2 * 86_400_000; ms += 7 * 60_000 + 13_000) {
        expect(zc.format(ms)).toBe(formatZoneless(new Date(ms), 'Europe/Oslo'));
        expect(zc.readBack(ms)).toBe(parseZoneless(zc.format(ms), 'Europe/Oslo')?.getTime());
      }
    }
    expect(zc.parse('2024-02-15')).toBe(Date.parse('2024-02-14T23:00:00Z'));
    expect(zc.parse('2024-02-15 10:00')).toBeNull();
  });
});
