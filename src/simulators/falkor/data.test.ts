/** Falkor's generated data and the pieces that serve it fast, checked without HTTP. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRng } from '../common/prng.ts';
import { formatWithOffset, formatZoneless } from '../common/time.ts';
import { selectCertificates } from './filters.ts';
import { generateFalkorAccounts } from './generate.ts';
import { createUidCodec, PENDING } from './model.ts';
import { createOsloFormat } from './oslo.ts';
import { dataBody, storyBlocks } from './present.ts';
import { AS_OF, testWorld } from './falkor.testkit.ts';

const DAY = 86_400_000;

describe('generated accounts', () => {
  const world = testWorld();
  const accounts = generateFalkorAccounts(world);

  it('a pure function of the world: generated twice, the same columns, people and stories', () => {
    const again = generateFalkorAccounts(testWorld());
    accounts.forEach((a, i) => {
      const b = again[i]!;
      expect(b.token).toBe(a.token);
      expect(b.stories).toEqual(a.stories);
      expect(b.people).toEqual(a.people);
      expect(Buffer.from(b.table.timestamp.buffer).equals(Buffer.from(a.table.timestamp.buffer))).toBe(true);
      expect([...b.table.story]).toEqual([...a.table.story]);
      expect(b.uidOf(7)).toBe(a.uidOf(7));
    });
  });

  it('eleven stories of all four types per account, three apps, six groups', () => {
    for (const a of accounts) {
      expect(a.stories).toHaveLength(11);
      expect(new Set(a.stories.map((s) => s.type)).size).toBe(4);
      expect(new Set(a.stories.map((s) => `${s.id}:${s.name}`)).size).toBe(11);
      expect(new Set(a.stories.map((s) => s.id)).size).toBe(10);
      expect(a.apps).toHaveLength(3);
      expect(a.groups).toHaveLength(6);
    }
  });

  it('learners: 1-6 certificates each on distinct stories, all before asOf, pending ones recent', () => {
    const asOf = Date.parse(`${AS_OF}T00:00:00Z`);
    for (const a of accounts) {
      const t = a.table;
      const perLearner = new Map<number, number[]>();
      for (let row = 0; row < t.length; row++) {
        const list = perLearner.get(t.learner[row]!) ?? [];
        list.push(t.story[row]!);
        perLearner.set(t.learner[row]!, list);
        const ts = t.timestamp[row]!;
        expect(ts).toBeLessThan(asOf);
        expect(ts).toBeGreaterThan(asOf - 4 * 366 * DAY);
        if (t.state[row] === PENDING) expect(ts).toBeGreaterThan(asOf - 21 * DAY);
      }
      expect(perLearner.size).toBe(a.people.length);
      const counts = [...perLearner.values()].map((s) => s.length);
      expect(Math.min(...counts)).toBe(1);
      expect(Math.max(...counts)).toBe(6);
      for (const stories of perLearner.values()) expect(new Set(stories).size).toBe(stories.length);
    }
  });

  it('emails as world.emailFor spells them for falkor, some learners in no group, some abroad', () => {
    const byKey = new Map(world.people.map((p) => [p.key, p]));
    const people = accounts.flatMap((a) => a.people);
    for (const p of people) expect(p.email).toBe(world.emailFor(byKey.get(p.personKey)!, 'falkor'));
    expect(people.some((p) => p.email !== byKey.get(p.personKey)!.email)).toBe(true);
    expect(people.some((p) => p.country !== 'Norway')).toBe(true);
  });
});

describe('serving pieces', () => {
  it('Oslo timestamps: byte for byte formatWithOffset, also around both DST changes; dates and UTC ISO', () => {
    const fmt = createOsloFormat();
    const rng = createRng('oslo');
    const instants = [Date.parse('2025-03-30T00:59:59Z'), Date.parse('2025-03-30T01:00:00Z'), Date.parse('2025-10-26T00:30:00Z'), Date.parse('2025-10-26T01:00:00Z'), Date.parse('2025-10-26T00:59:59.999Z'), Date.parse('2025-12-31T23:00:00Z')];
    for (let i = 0; i < 3000; i++) instants.push(Date.parse('2019-01-01T00:00:00Z') + rng.int(0, 8 * 365 * 24 * 3600) * 1000 + rng.int(0, 999));
    for (const ms of instants) {
      expect(fmt.timestamp(ms)).toBe(formatWithOffset(new Date(ms), 'Europe/Oslo'));
      expect(fmt.localDate(ms)).toBe(formatZoneless(new Date(ms), 'Europe/Oslo').slice(0, 10));
      expect(fmt.isoUtc(ms)).toBe(new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
    }
    expect(fmt.timestamp(Date.parse('2025-12-31T23:00:00Z'))).toBe('2026-01-01T00:00:00+01:00');
  });

  it('the data bytes are JSON.stringify of the objects, and the hash is their md5', () => {
    const [account] = generateFalkorAccounts(testWorld());
    const fmt = createOsloFormat();
    for (const filters of [{}, { groups: [account!.groups[2]!] }, { story: 'none' }]) {
      const selection = selectCertificates(account!, filters);
      const { chunks, bytes, hash } = dataBody(account!, selection, 'http://127.0.0.1:1', fmt);
      const data = Buffer.concat(chunks);
      expect(data.length).toBe(bytes);
      expect(data.toString('utf8')).toBe(JSON.stringify(storyBlocks(account!, selection, 'http://127.0.0.1:1', fmt)));
      expect(hash).toBe(createHash('md5').update(data).digest('hex'));
    }
  });

  it('permalink ids: a keyed permutation of the row, 12 hex digits, one way back, nothing else resolves', () => {
    const codec = createUidCodec(createRng('uids'));
    const other = createUidCodec(createRng('other'));
    const seen = new Set<string>();
    for (let row = 0; row < 5000; row++) {
      const uid = codec.encode(row);
      expect(uid).toMatch(/^[0-9a-f]{12}$/);
      expect(codec.decode(uid)).toBe(row);
      expect(other.decode(uid)).not.toBe(row);
      seen.add(uid);
    }
    expect(seen.size).toBe(5000);
    expect(codec.encode(2 ** 40)).toMatch(/^[0-9a-f]{12}$/);
    expect(codec.decode(codec.encode(2 ** 40))).toBe(2 ** 40);
    for (const bad of ['', 'ABCDEF123456', '12345', 'zzzzzzzzzzzz', '0123456789abc']) expect(codec.decode(bad)).toBe(-1);
  });
});
