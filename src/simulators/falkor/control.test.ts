/**
 * The Falkor simulator over time: control routes change the world and the API and the truth follow;
 * the truth equals an independent normalization of what the API serves; same seed, same bytes;
 * the optional rate limit on the injected clock; the factory's source entries.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TruthCertificate } from '../common/truth.ts';
import { createFalkorSimulator } from './index.ts';
import { items, startFalkor, testWorld, uidOf, type FalkorAnswer, type RunningFalkor } from './falkor.testkit.ts';

let r: RunningFalkor;
beforeEach(async () => {
  r = await startFalkor();
});
afterEach(async () => {
  await r.close();
});

/** What the connector must make of an answer, written independently of truth.ts. */
function normalize(answer: FalkorAnswer): Omit<TruthCertificate, 'person_key'>[] {
  return answer.data
    .flatMap(({ story, certificates }) =>
      certificates.map((c) => ({
        external_id: c.certificate.url,
        status: c.certificate.state === 'delivered' ? ('awarded' as const) : ('pending' as const),
        subject: { provider_user_id: null, email: c.email, first_name: c.firstname, last_name: c.lastname, date_of_birth: null },
        achievement: { type: story.type.toLowerCase() as 'story', external_id: `${story.ID}:${story.name}`, title: story.name, code: story.ID },
        issued_at: new Date(c.certificate.timestamp).toISOString().replace('.000Z', 'Z'),
        valid_from: c.certificate.timestamp.slice(0, 10),
        valid_until: null,
        serial: null,
        file: { available: true },
      })),
    )
    .sort((a, b) => (a.external_id < b.external_id ? -1 : 1));
}
const withoutKeys = (truth: TruthCertificate[]): Omit<TruthCertificate, 'person_key'>[] => truth.map(({ person_key: _k, ...rest }) => rest);

describe('ground truth', () => {
  it('equals what the API serves, normalized independently, for every account; truth() is all accounts', async () => {
    for (const i of [0, 1]) expect(withoutKeys(await r.truth(i))).toEqual(normalize(await r.answer({}, i)));
    const all = (await r.control<TruthCertificate[]>('GET', '/truth')).body;
    expect(all).toEqual([...(await r.truth(0)), ...(await r.truth(1))].sort((a, b) => (a.external_id < b.external_id ? -1 : 1)));
    expect(r.fk.truthFor('acme')).toEqual(await r.truth(0));
    expect(r.fk.truthFor('nope')).toEqual([]);
  });

  it('person_key is the world person behind each learner; some people hold certificates in both accounts', async () => {
    const world = testWorld();
    const falkorKeys = new Set(world.byProvider('falkor').map((p) => p.key));
    const acme = new Set((await r.truth(0)).map((t) => t.person_key));
    const nordlys = new Set((await r.truth(1)).map((t) => t.person_key));
    expect(new Set([...acme, ...nordlys])).toEqual(falkorKeys);
    expect([...acme].some((k) => nordlys.has(k))).toBe(true);
  });
});

describe('control routes', () => {
  const base = (): string => `/accounts/${r.account().name}`;

  it('POST certificates for a world person new to the account: served with the clock as timestamp, in the truth', async () => {
    const newcomer = testWorld().byProvider('falkor').find((p) => !r.account().learnerByPerson.has(p.key))!;
    const before = await r.answer();
    r.clock.ms = Date.parse('2026-01-15T22:30:05Z');
    const added = await r.control<{ uid: string; url: string; timestamp: string }>('POST', `${base()}/certificates`, { person_key: newcomer.key, story: 3, state: 'pending' });
    expect(added.status).toBe(201);
    expect(added.body.timestamp).toBe('2026-01-15T23:30:05+01:00');
    const after = await r.answer();
    expect(after.hash).not.toBe(before.hash);
    const item = items(after).find((c) => c.certificate.url === added.body.url);
    expect(item).toMatchObject({ firstname: newcomer.firstName, lastname: newcomer.lastName, certificate: { state: 'pending', timestamp: '2026-01-15T23:30:05+01:00' } });
    const truth = (await r.truth()).find((t) => t.external_id === added.body.url);
    expect(truth).toMatchObject({ status: 'pending', issued_at: '2026-01-15T22:30:05Z', valid_from: '2026-01-15', person_key: newcomer.key });
    expect((await fetch(added.body.url)).status).toBe(200);
  });

  it('POST certificates for a new person (Norwegian letters, email as typed) on a story given as "ID:name"', async () => {
    const story = r.account().stories[5]!;
    const added = await r.control<{ url: string }>('POST', `${base()}/certificates`, {
      person: { firstname: 'Åse', lastname: 'Ødegård', email: ' Ase.Odegard@Example.NO', groups: ['Økonomi-teamet'] },
      story: `${story.id}:${story.name}`,
      timestamp: '2025-03-30T01:30:00Z',
    });
    expect(added.status).toBe(201);
    const truth = (await r.truth()).find((t) => t.external_id === added.body.url);
    expect(truth).toMatchObject({ status: 'awarded', subject: { email: ' Ase.Odegard@Example.NO', first_name: 'Åse' }, person_key: 'new:ase.odegard@example.no', achievement: { title: story.name } });
    // 01:30 UTC on the night summer time begins is 03:30 in Oslo (+02:00).
    const item = items(await r.answer({ groups: ['Økonomi-teamet'] }));
    expect(item.map((c) => c.certificate.timestamp)).toEqual(['2025-03-30T03:30:00+02:00']);
  });

  it('PATCH state pending -> delivered: the answer, hash and truth change; changed_at and modified_at are the clock', async () => {
    const pending = r.account().certificates.find((c) => !c.removed && c.state === 'pending')!;
    const before = await r.answer();
    r.clock.ms = Date.parse('2026-06-02T08:00:00Z');
    const res = await r.control<{ state: string; changed_at: string }>('PATCH', `${base()}/certificates/${pending.uid}`, { state: 'delivered' });
    expect(res.body).toMatchObject({ state: 'delivered', changed_at: '2026-06-02T08:00:00.000Z' });
    const after = await r.answer();
    expect(after.hash).not.toBe(before.hash);
    const url = r.account().permalink(r.origin, pending.row);
    expect(items(after).find((c) => c.certificate.url === url)?.certificate.state).toBe('delivered');
    expect((await r.truth()).find((t) => t.external_id === url)?.status).toBe('awarded');
    const accounts = await r.control<{ account: string; modified_at: string }[]>('GET', '/accounts');
    expect(accounts.body.find((a) => a.account === 'acme')?.modified_at).toBe('2026-06-02T08:00:00.000Z');
  });

  it('PATCH timestamp and story; bad values are 400 in the error shape', async () => {
    const cert = r.account().certificates[0]!;
    const res = await r.control<{ url: string }>('PATCH', `${base()}/certificates/${cert.uid}`, { timestamp: '2024-12-24T18:00:00+01:00', story: 7 });
    expect(res.status).toBe(200);
    const t = (await r.truth()).find((x) => x.external_id === res.body.url);
    const story = r.account().stories[7]!;
    expect(t).toMatchObject({ issued_at: '2024-12-24T17:00:00Z', valid_from: '2024-12-24', achievement: { external_id: `${story.id}:${story.name}` } });
    for (const body of [{ state: 'revoked' }, { timestamp: 'yesterday' }, { story: 99 }]) {
      const bad = await r.control('PATCH', `${base()}/certificates/${cert.uid}`, body);
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ status: 'error', message: expect.any(String) as string });
    }
  });

  it('DELETE a certificate: gone from the answer and the truth, its permalink 404', async () => {
    const before = await r.answer();
    const url = items(before)[0]!.certificate.url;
    expect((await r.control('DELETE', `${base()}/certificates/${uidOf(url)}`)).status).toBe(200);
    const after = await r.answer();
    expect(items(after).some((c) => c.certificate.url === url)).toBe(false);
    expect(items(after).length).toBe(items(before).length - 1);
    expect((await r.truth()).some((t) => t.external_id === url)).toBe(false);
    expect((await fetch(url)).status).toBe(404);
    expect((await r.control('DELETE', `${base()}/certificates/${uidOf(url)}`)).status).toBe(404);
  });

  it('POST stories: not served until it has a certificate; may reuse an ID, never ID and name together', async () => {
    const shared = r.account().stories[0]!.id;
    const made = await r.control<{ index: number; ID: string; type: string }>('POST', `${base()}/stories`, { name: 'Ladder safety', type: 'scorm', ID: shared });
    expect(made.body).toMatchObject({ ID: shared, type: 'SCORM' });
    expect((await r.answer({ story: 'Ladder safety' })).data).toEqual([]);
    await r.control('POST', `${base()}/certificates`, { person_key: r.account().people[0]!.personKey, story: 'Ladder safety' });
    const served = await r.answer({ story: 'Ladder safety' });
    expect(served.data.map((s) => s.story)).toEqual([{ name: 'Ladder safety', type: 'SCORM', ID: shared }]);
    expect((await r.control('POST', `${base()}/stories`, { name: 'Ladder safety', ID: shared })).status).toBe(400);
    expect((await r.control('POST', `${base()}/stories`, { name: 'X', type: 'video' })).status).toBe(400);
    const generated = await r.control<{ ID: string }>('POST', `${base()}/stories`, { name: 'Another one' });
    expect(generated.body.ID).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  });

  it('PATCH a story (rename) and a learner (email): every certificate of theirs changes with them', async () => {
    await r.control('PATCH', `${base()}/stories/2`, { name: 'Renamed story' });
    const renamed = await r.answer({ story: 'Renamed story' });
    expect(renamed.data.length).toBe(1);
    expect((await r.truth()).filter((t) => t.achievement.title === 'Renamed story').length).toBe(renamed.data[0]?.certificates.length);
    const learner = r.account().people[0]!;
    await r.control('PATCH', `${base()}/learners/0`, { email: 'NEW.Address@acme.no', telephone: '' });
    const mine = items(await r.answer({ users: ['new.address@acme.no'] }));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((c) => c.email === 'NEW.Address@acme.no' && c.firstname === learner.firstname)).toBe(true);
    expect((await r.control('PATCH', `${base()}/learners/999999`, { email: 'x@y.z' })).status).toBe(404);
  });

  it('unknown accounts, certificates and stories: 404 / 400 in the error shape', async () => {
    expect((await r.control('GET', '/accounts/nope/truth')).status).toBe(404);
    expect((await r.control('PATCH', `${base()}/certificates/zzz`, { state: 'delivered' })).status).toBe(404);
    expect((await r.control('POST', `${base()}/certificates`, { person_key: 'p999999', story: 0 })).status).toBe(400);
    expect((await r.control('POST', `${base()}/certificates`, { person_key: 'p000001', story: 'No such story' })).status).toBe(400);
    expect((await r.control('POST', `${base()}/certificates`, { story: 0 })).status).toBe(400);
  });
});

describe('factory and options', () => {
  it('sourceConfigs(): one falkor source per account, base_url with the account path, its token', () => {
    expect(r.fk.sourceConfigs()).toEqual([
      { id: 'falkor-acme', provider: 'falkor', base_url: `${r.origin}/acme/api`, token: r.account(0).token },
      { id: 'falkor-nordlys', provider: 'falkor', base_url: `${r.origin}/nordlys/api`, token: r.account(1).token },
    ]);
    expect(r.account(0).token).not.toBe(r.account(1).token);
  });

  it('same seed -> the same answers byte for byte (origin aside); another seed -> other data', async () => {
    const twin = await startFalkor();
    const other = await startFalkor({ world: testWorld('another-seed') });
    try {
      for (const i of [0, 1]) {
        const a = await (await r.post({}, { account: i })).text();
        const b = await (await twin.post({}, { account: i })).text();
        // Permalinks carry the server's port and the hash covers them: compare with the origin replaced, hash aside.
        const strip = (text: string, origin: string): string => text.split(origin).join('ORIGIN').replace(/"hash":"[0-9a-f]{32}"/, '');
        expect(strip(b, twin.origin) === strip(a, r.origin)).toBe(true);
        expect(twin.account(i).token).toBe(r.account(i).token);
      }
      expect(other.account().token).not.toBe(r.account().token);
      expect(strip2(await (await other.post({})).text(), other.origin)).not.toBe(strip2(await (await r.post({})).text(), r.origin));
    } finally {
      await Promise.all([twin.close(), other.close()]);
    }
  });

  it('rate limit: none by default; as an option, per account on the injected clock, 429 + Retry-After in the error shape', async () => {
    for (let i = 0; i < 30; i++) expect((await r.post({})).status).toBe(200);
    const limited = await startFalkor({ rateLimit: { limit: 2, windowMs: 60_000 } });
    try {
      expect((await limited.post({})).status).toBe(200);
      expect((await limited.post({})).status).toBe(200);
      const refused = await limited.post({});
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(await refused.json()).toEqual({ status: 'error', message: expect.any(String) as string });
      expect((await limited.post({}, { account: 1 })).status).toBe(200);
      limited.clock.ms += 60_001;
      expect((await limited.post({})).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('other account names as an option', () => {
    const fk = createFalkorSimulator({ world: testWorld(), accounts: ['one', 'two', 'three'] });
    expect(fk.sourceConfigs().map((s) => s.id)).toEqual(['falkor-one', 'falkor-two', 'falkor-three']);
    expect(fk.accounts.every((a) => a.table.length > 0)).toBe(true);
    expect(() => createFalkorSimulator({ world: testWorld(), accounts: ['Bad Name'] })).toThrow();
  });
});

const strip2 = (text: string, origin: string): string => text.split(origin).join('ORIGIN');
