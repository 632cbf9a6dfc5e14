import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateWorld } from '../common/world.ts';
import type { TruthCertificate } from '../common/truth.ts';
import { createFalkorSimulator, type FalkorSimulator } from './index.ts';

const world = (): ReturnType<typeof generateWorld> => generateWorld({ seed: 'falkor-test', people: 200, asOf: '2026-06-01' });

interface CertItem {
  firstname: string;
  lastname: string;
  email: string;
  telephone: string;
  country: string;
  city: string;
  certificate: { timestamp: string; state: string; url: string };
}
interface StoryBlock {
  story: { name: string; type: string; ID: string };
  certificates: CertItem[];
}
interface FalkorOk {
  status: 'success';
  data: StoryBlock[];
  hash: string;
  response_time: number;
}

let fk: FalkorSimulator;
let origin: string;
beforeEach(async () => {
  fk = createFalkorSimulator({ world: world() });
  origin = await fk.sim.listen(0);
});
afterEach(async () => {
  await fk.sim.close();
});

const account = (i = 0): FalkorSimulator['accounts'][number] => fk.accounts[i] as FalkorSimulator['accounts'][number];
const post = (body: unknown, opts: { account?: number; token?: string | null } = {}): Promise<Response> => {
  const a = account(opts.account ?? 0);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== null) headers.authorization = `Basic ${opts.token ?? a.token}`;
  return fetch(`${origin}/${a.name}/api/v1/logs/story-certificates`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
};
const all = async (body: unknown = {}, acc = 0): Promise<FalkorOk> => (await (await post(body, { account: acc })).json()) as FalkorOk;

describe('Falkor simulator: POST v1/logs/story-certificates', () => {
  it('"All parameters are optional and if none are provided all stories, users and groups will be called."', async () => {
    const res = await all();
    expect(res.status).toBe('success');
    const count = res.data.reduce((n, s) => n + s.certificates.length, 0);
    expect(count).toBe(account().certificates.length);
    expect(count).toBeGreaterThan(50);
  });

  it('"Authorization: Basic <Your Base64 Encoded Token>": a wrong or missing token gets {status:"error", message}', async () => {
    for (const token of ['bm9wZQ==', null, account(1).token]) {
      const r = await post({}, { token });
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ status: 'error', message: expect.any(String) as string });
    }
  });

  it('"A successful response will return an array of story + certificates items." with every documented field', async () => {
    const res = await all();
    const block = res.data[0] as StoryBlock;
    expect(Object.keys(block.story).sort()).toEqual(['ID', 'name', 'type']);
    const item = block.certificates[0] as CertItem;
    expect(Object.keys(item).sort()).toEqual(['certificate', 'city', 'country', 'email', 'firstname', 'lastname', 'telephone']);
    expect(Object.keys(item.certificate).sort()).toEqual(['state', 'timestamp', 'url']);
    expect(item.certificate.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    expect(typeof res.hash).toBe('string');
    expect(typeof res.response_time).toBe('number');
  });

  it('"story.type Enum (story, assessment, survey, scorm)" — served capitalized like the doc example ("Story")', async () => {
    const types = new Set((await all()).data.map((s) => s.story.type));
    expect([...types].every((t) => ['Story', 'Assessment', 'Survey', 'SCORM'].includes(t))).toBe(true);
    expect(types.size).toBe(4);
  });

  it('the doc example repeats one story "ID" for two stories: so does the simulator', async () => {
    const ids = (await all()).data.map((s) => s.story.ID);
    expect(new Set(ids).size).toBeLessThan(ids.length);
  });

  it('"certificate.state Enum (pending, delivered)": both occur', async () => {
    const states = new Set((await all()).data.flatMap((s) => s.certificates.map((c) => c.certificate.state)));
    expect([...states].sort()).toEqual(['delivered', 'pending']);
  });

  it('"story: String (ID or name of stories)" filters by name, and by ID (which may match two stories)', async () => {
    const a = account();
    const byName = await all({ story: a.stories[3]?.name });
    expect(byName.data.map((s) => s.story.name)).toEqual([a.stories[3]?.name]);
    const shared = a.stories[0]?.id;
    const byId = await all({ story: shared });
    expect(byId.data.every((s) => s.story.ID === shared)).toBe(true);
    expect(byId.data.length).toBe(2);
  });

  it('"app: String (ID or name of app)", "groups: Array String (name of group)" filter', async () => {
    const a = account();
    const byApp = await all({ app: a.apps[1]?.name });
    expect(byApp.data.length).toBeGreaterThan(0);
    expect(byApp.data.every((s) => a.stories.findIndex((x) => x.name === s.story.name && x.id === s.story.ID) % 2 === 1)).toBe(true);
    expect((await all({ app: a.apps[1]?.id })).hash).toBe(byApp.hash);
    const byGroup = await all({ groups: ['Sales'] });
    const total = (await all()).data.reduce((n, s) => n + s.certificates.length, 0);
    const inGroup = byGroup.data.reduce((n, s) => n + s.certificates.length, 0);
    expect(inGroup).toBeGreaterThan(0);
    expect(inGroup).toBeLessThan(total);
  });

  it('"users: Array String (name or email)": matches an email case-insensitively, or a full name', async () => {
    const a = account();
    const person = a.people.find((p) => p.email !== p.email.toLowerCase()) ?? a.people[0];
    const byEmail = await all({ users: [person?.email.trim().toLowerCase()] });
    const emails = new Set(byEmail.data.flatMap((s) => s.certificates.map((c) => c.email)));
    expect([...emails]).toEqual([person?.email]);
    const byName = await all({ users: [`${person?.firstname} ${person?.lastname}`] });
    expect(byName.data.flatMap((s) => s.certificates).length).toBeGreaterThanOrEqual(byEmail.data.flatMap((s) => s.certificates).length);
  });

  it('a malformed body or a filter of the wrong type is a 400 in the error shape', async () => {
    for (const body of ['{not json', JSON.stringify({ users: 'x' }), JSON.stringify({ story: 5 }), '[]']) {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { status: string }).status).toBe('error');
    }
  });

  it('"hash": equal for an unchanged result, different after any change', async () => {
    const h1 = (await all()).hash;
    expect((await all()).hash).toBe(h1);
    const uid = account().certificates.find((c) => c.state === 'pending')?.uid;
    await fetch(`${origin}/__sim/accounts/${account().name}/certificates/${uid}`, { method: 'PATCH', body: JSON.stringify({ state: 'delivered' }) });
    expect((await all()).hash).not.toBe(h1);
  });

  it('"certificate.url String (Permalink of the certificate)" serves a real PDF; a removed one is 404', async () => {
    const url = (await all()).data[0]?.certificates[0]?.certificate.url ?? '';
    const pdf = await fetch(url);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    const uid = url.split('/').pop();
    await fetch(`${origin}/__sim/accounts/${account().name}/certificates/${uid}`, { method: 'DELETE' });
    expect((await fetch(url)).status).toBe(404);
  });

  it('each account has its own base path, token and data', async () => {
    const a = await all({}, 0);
    const b = await all({}, 1);
    expect(a.hash).not.toBe(b.hash);
    const configs = fk.sourceConfigs();
    expect(configs.map((c) => c.base_url)).toEqual(fk.accounts.map((x) => `${origin}/${x.name}/api`));
  });
});

describe('Falkor simulator: data and ground truth', () => {
  it('same seed gives the same responses byte for byte', async () => {
    const other = createFalkorSimulator({ world: world() });
    const otherOrigin = await other.sim.listen(0);
    try {
      const a = await (await post({})).text();
      const acct = account();
      const b = await (await fetch(`${otherOrigin}/${acct.name}/api/v1/logs/story-certificates`, { method: 'POST', headers: { authorization: `Basic ${acct.token}` }, body: '{}' })).text();
      // Permalinks carry the server's port, and the hash covers them: compare with both set aside.
      const strip = (text: string, o: string): string => text.split(o).join('ORIGIN').replace(/"hash":"[0-9a-f]+"/, '');
      expect(strip(b, otherOrigin) === strip(a, origin)).toBe(true);
    } finally {
      await other.sim.close();
    }
  });

  it('the truth equals what the API serves, normalized independently', async () => {
    for (const [i, acct] of fk.accounts.entries()) {
      const served = (await all({}, i)).data.flatMap((s) =>
        s.certificates.map((c) => ({
          external_id: c.certificate.url,
          status: c.certificate.state === 'delivered' ? 'awarded' : 'pending',
          email: c.email,
          achievement: `${s.story.ID}:${s.story.name}`,
          type: s.story.type.toLowerCase(),
          issued_at: new Date(c.certificate.timestamp).toISOString().replace('.000Z', 'Z'),
        })),
      );
      const truth = (await (await fetch(`${origin}/__sim/accounts/${acct.name}/truth`)).json()) as TruthCertificate[];
      const fromTruth = truth.map((t) => ({ external_id: t.external_id, status: t.status, email: t.subject.email, achievement: t.achievement.external_id, type: t.achievement.type, issued_at: t.issued_at }));
      expect(fromTruth).toEqual(served.sort((x, y) => (x.external_id < y.external_id ? -1 : 1)));
    }
  });

  it('control routes add, change and remove certificates, and the truth follows', async () => {
    const acct = account();
    const before = fk.truthFor(acct.name).length;
    const added = (await (await fetch(`${origin}/__sim/accounts/${acct.name}/certificates`, { method: 'POST', body: JSON.stringify({ person: { firstname: 'Åse', lastname: 'Ødegård', email: 'ase.odegard@example.com' }, story: 2, state: 'pending' }) })).json()) as { uid: string; url: string };
    let truth = fk.truthFor(acct.name);
    expect(truth).toHaveLength(before + 1);
    expect(truth.find((t) => t.external_id === added.url)).toMatchObject({ status: 'pending', subject: { first_name: 'Åse', last_name: 'Ødegård' } });
    await fetch(`${origin}/__sim/accounts/${acct.name}/certificates/${added.uid}`, { method: 'PATCH', body: JSON.stringify({ state: 'delivered' }) });
    expect(fk.truthFor(acct.name).find((t) => t.external_id === added.url)?.status).toBe('awarded');
    await fetch(`${origin}/__sim/accounts/${acct.name}/certificates/${added.uid}`, { method: 'DELETE' });
    truth = fk.truthFor(acct.name);
    expect(truth).toHaveLength(before);
    const bad = await fetch(`${origin}/__sim/accounts/${acct.name}/certificates`, { method: 'POST', body: JSON.stringify({ story: 999, person_key: 'p000001' }) });
    expect(bad.status).toBe(400);
  });

  it('people are the shared world people, some with case-variant emails', () => {
    const w = world();
    const keys = new Set(fk.accounts.flatMap((a) => a.people.map((p) => p.personKey)));
    expect([...keys].every((k) => w.people.some((p) => p.key === k))).toBe(true);
    expect(fk.accounts.flatMap((a) => a.people).some((p) => p.email !== p.email.trim().toLowerCase())).toBe(true);
  });
});
