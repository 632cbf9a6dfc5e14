/**
 * The Falkor simulator against story-certificates.txt, over real HTTP: one test per documented
 * behaviour, named after the doc's sentence (or table row) it checks.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatWithOffset } from '../common/time.ts';
import { items, startFalkor, uidOf, type CertItem, type FalkorAnswer, type RunningFalkor } from './falkor.testkit.ts';

let r: RunningFalkor;
let everything: FalkorAnswer;
beforeAll(async () => {
  r = await startFalkor();
  everything = await r.answer();
});
afterAll(async () => {
  await r.close();
});

const errorShape = { status: 'error', message: expect.any(String) as string };

describe('POST v1/logs/story-certificates', () => {
  it('"The logs/story-certificates endpoint retrieves certificates awarded to users on stories." -> POST on the account base path; other methods are refused in the error shape', async () => {
    expect(everything.status).toBe('success');
    expect(items(everything).length).toBeGreaterThan(50);
    const get = await fetch(`${r.origin}${r.account().basePath}/v1/logs/story-certificates`);
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual(errorShape);
    const nowhere = await fetch(`${r.origin}/nobody/api/v1/logs/story-certificates`, { method: 'POST', body: '{}' });
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toEqual(errorShape);
  });

  it('"All parameters are optional and if none are provided all stories, users and groups will be called." -> {} and an empty body give every certificate', async () => {
    const truth = await r.truth();
    expect(items(everything).map((c) => c.certificate.url).sort()).toEqual(truth.map((t) => t.external_id));
    const empty = (await (await r.post('')).json()) as FalkorAnswer;
    expect(empty.hash).toBe(everything.hash);
    const nulls = await r.answer({ app: null, story: null, groups: null, users: null });
    expect(nulls.hash).toBe(everything.hash);
  });

  it('"Authorization: Basic <Your Base64 Encoded Token>" -> the token as issued works; a wrong, missing or other account\'s token is 401 {status:"error", message}', async () => {
    expect(Buffer.from(r.account().token, 'base64').toString('base64')).toBe(r.account().token);
    for (const token of ['bm9wZQ==', null, r.account(1).token, `${r.account().token}x`]) {
      const res = await r.post({}, { token });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(errorShape);
    }
    const bearer = await r.post({}, { headers: { authorization: `Bearer ${r.account().token}` } });
    expect(bearer.status).toBe(401);
    const lower = await r.post({}, { headers: { authorization: `basic ${r.account().token}` } });
    expect(lower.status).toBe(200);
  });

  it('"curl -X POST ... -d \'{"story" : "Story A"}\'" -> a JSON body sent as curl -d sends it (form content type) is read as JSON', async () => {
    const name = everything.data[0]?.story.name ?? '';
    const res = await r.post(`{\n"story" : ${JSON.stringify(name)}\n}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as FalkorAnswer;
    expect(new Set(body.data.map((s) => s.story.name))).toEqual(new Set([name]));
  });

  it('"A successful response will return an array of story + certificates items." -> exactly the example\'s keys, in its order', async () => {
    const res = await r.post({});
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['status', 'data', 'hash', 'response_time']);
    for (const block of everything.data) {
      expect(Object.keys(block)).toEqual(['story', 'certificates']);
      expect(Object.keys(block.story)).toEqual(['name', 'type', 'ID']);
      for (const item of block.certificates) {
        expect(Object.keys(item)).toEqual(['firstname', 'lastname', 'email', 'telephone', 'country', 'city', 'certificate']);
        expect(Object.keys(item.certificate)).toEqual(['timestamp', 'state', 'url']);
        for (const v of [item.firstname, item.lastname, item.email, item.telephone, item.country, item.city]) expect(typeof v).toBe('string');
      }
    }
  });

  it('"story.type | Enum (story, assessment, survey, scorm)" but the example prints "Story" -> served capitalized as in the example, all four occur', () => {
    const types = new Set(everything.data.map((s) => s.story.type));
    expect([...types].sort()).toEqual(['Assessment', 'SCORM', 'Story', 'Survey']);
  });

  it('the example gives "Story A" and "Story B" the same "ID": "EV72-RQZY-80AH" -> two stories of each account share an ID', async () => {
    for (const i of [0, 1]) {
      const data = (await r.answer({}, i)).data;
      const ids = data.map((s) => s.story.ID);
      for (const id of ids) expect(id).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      const shared = ids.find((id, k) => ids.indexOf(id) !== k);
      expect(shared).toBeDefined();
      expect(new Set(data.filter((s) => s.story.ID === shared).map((s) => s.story.name)).size).toBe(2);
    }
  });

  it('"story | String (ID or name of stories)" -> by name one story; by an ID two stories share, both', async () => {
    const name = everything.data[2]?.story.name;
    const byName = await r.answer({ story: name });
    expect(byName.data.map((s) => s.story.name)).toEqual([name]);
    expect(byName.data[0]?.certificates).toEqual(everything.data[2]?.certificates);
    const ids = everything.data.map((s) => s.story.ID);
    const shared = ids.find((id, k) => ids.indexOf(id) !== k);
    const byId = await r.answer({ story: shared });
    expect(byId.data.length).toBe(2);
    expect(byId.data.every((s) => s.story.ID === shared)).toBe(true);
    expect((await r.answer({ story: 'No such story' })).data).toEqual([]);
  });

  it('"app | String (ID or name of app)" -> by ID and by name alike, only that app\'s stories', async () => {
    const a = r.account();
    const app = a.apps[1];
    const byName = await r.answer({ app: app?.name });
    const byId = await r.answer({ app: app?.id });
    expect(byName.hash).toBe(byId.hash);
    const own = new Set(a.stories.filter((s) => s.app === 1).map((s) => `${s.id}:${s.name}`));
    expect(byName.data.length).toBeGreaterThan(0);
    expect(byName.data.every((s) => own.has(`${s.story.ID}:${s.story.name}`))).toBe(true);
    expect(byName.data.length).toBeLessThan(everything.data.length);
    expect((await r.answer({ app: 'Nope' })).data).toEqual([]);
  });

  it('"groups | Array String (name of group)" -> learners of any listed group; names match exactly', async () => {
    const a = r.account();
    const inGroup = (c: CertItem, gs: string[]): boolean => {
      const p = a.people.find((x) => x.email === c.email);
      return gs.some((g) => ((p?.groups ?? 0) & (1 << a.groups.indexOf(g))) !== 0);
    };
    const one = items(await r.answer({ groups: [a.groups[0]] }));
    const two = items(await r.answer({ groups: [a.groups[0], a.groups[1]] }));
    expect(one.length).toBeGreaterThan(0);
    expect(one.every((c) => inGroup(c, [a.groups[0] as string]))).toBe(true);
    expect(two.length).toBeGreaterThan(one.length);
    expect(two.length).toBeLessThan(items(everything).length);
    expect(items(await r.answer({ groups: [a.groups[0]?.toUpperCase()] }))).toEqual([]);
  });

  it('"users | Array String (name or email)" -> an email in any letter case, with spaces, or "firstname lastname"', async () => {
    const a = r.account();
    const person = a.people.find((p) => p.email !== p.email.trim().toLowerCase());
    expect(person).toBeDefined();
    const p = person!;
    const byEmail = items(await r.answer({ users: [`  ${p.email.trim().toUpperCase()} `] }));
    expect(byEmail.length).toBeGreaterThan(0);
    expect(new Set(byEmail.map((c) => c.email))).toEqual(new Set([p.email]));
    const byName = items(await r.answer({ users: [`${p.firstname} ${p.lastname}`] }));
    expect(byName.length).toBeGreaterThanOrEqual(byEmail.length);
    expect(byName.every((c) => c.firstname === p.firstname && c.lastname === p.lastname)).toBe(true);
    const other = a.people.find((x) => x.firstname !== p.firstname)!;
    const both = items(await r.answer({ users: [p.email, other.email] }));
    expect(new Set(both.map((c) => c.email.trim().toLowerCase()))).toEqual(new Set([p.email.trim().toLowerCase(), other.email.trim().toLowerCase()]));
    expect(items(await r.answer({ users: ['nobody@example.com'] }))).toEqual([]);
  });

  it('filters combine: story AND users', async () => {
    const first = everything.data[0];
    const c = first?.certificates[0];
    const res = await r.answer({ story: first?.story.name, users: [c?.email] });
    expect(res.data.map((s) => s.story.name)).toEqual([first?.story.name]);
    expect(res.data[0]?.certificates.every((x) => x.email === c?.email)).toBe(true);
  });

  it('"certificates | Array of certificate items" -> a story without matching certificates is left out', async () => {
    const a = r.account();
    const served = new Set(everything.data.map((s) => `${s.story.ID}:${s.story.name}`));
    const draft = a.stories.filter((s) => !served.has(`${s.id}:${s.name}`));
    expect(draft.length).toBe(1);
    expect((await r.answer({ story: draft[0]?.name })).data).toEqual([]);
    expect(everything.data.every((s) => s.certificates.length > 0)).toBe(true);
  });

  it('"The certificate item will contain user information" -> emails as the learner typed them, "telephone": "" for some', () => {
    const all = items(everything);
    expect(all.some((c) => c.email !== c.email.trim().toLowerCase())).toBe(true);
    expect(all.some((c) => c.telephone === '')).toBe(true);
    expect(all.some((c) => c.telephone !== '')).toBe(true);
    expect(new Set(all.map((c) => c.country)).size).toBeGreaterThan(1);
  });

  it('"timestamp": "2021-09-28T11:14:23+02:00" -> Oslo time with its offset: +02:00 in summer, +01:00 in winter', () => {
    const stamps = items(everything).map((c) => c.certificate.timestamp);
    for (const s of stamps) {
      expect(s).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
      expect(formatWithOffset(new Date(s), 'Europe/Oslo')).toBe(s);
    }
    expect(stamps.some((s) => s.endsWith('+02:00'))).toBe(true);
    expect(stamps.some((s) => s.endsWith('+01:00'))).toBe(true);
  });

  it('"certificate.state | Enum (pending, delivered)" -> both, about 15% pending', () => {
    const states = items(everything).map((c) => c.certificate.state);
    expect(new Set(states)).toEqual(new Set(['pending', 'delivered']));
    const share = states.filter((s) => s === 'pending').length / states.length;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.3);
  });

  it('"certificate.url | String (Permalink of the certificate)" -> <base>/certificates/<id>, unique, a real PDF without auth, distinct per certificate', async () => {
    const urls = items(everything).map((c) => c.certificate.url);
    expect(new Set(urls).size).toBe(urls.length);
    for (const u of urls) expect(u).toMatch(new RegExp(`^${r.origin}/acme/api/certificates/[0-9a-f]{12}$`));
    const [a, b] = await Promise.all(urls.slice(0, 2).map((u) => fetch(u)));
    expect(a?.headers.get('content-type')).toBe('application/pdf');
    const pdfA = Buffer.from(await a!.arrayBuffer());
    const pdfB = Buffer.from(await b!.arrayBuffer());
    expect(pdfA.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfA.equals(pdfB)).toBe(false);
    const unknown = await fetch(`${r.origin}/acme/api/certificates/000000000000`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual(errorShape);
    // Another account's base path does not serve it.
    expect((await fetch(urls[0]!.replace('/acme/', '/nordlys/'))).status).toBe(404);
    expect(uidOf(urls[0]!)).toHaveLength(12);
  });

  it('"hash": "5cd3375ed2d332ca1f3cc840242c4419" -> md5 hex of the data, the same for the same data, different for other data', async () => {
    const text = await (await r.post({})).text();
    const data = text.slice(text.indexOf('"data":') + 7, text.lastIndexOf(',"hash":'));
    expect(everything.hash).toMatch(/^[0-9a-f]{32}$/);
    expect(createHash('md5').update(data).digest('hex')).toBe(everything.hash);
    expect((await r.answer()).hash).toBe(everything.hash);
    expect((await r.answer({ story: everything.data[0]?.story.name })).hash).not.toBe(everything.hash);
    expect((await r.answer({}, 1)).hash).not.toBe(everything.hash);
  });

  it('"response_time": 0.3598060607910156 -> a float number of seconds', () => {
    expect(typeof everything.response_time).toBe('number');
    expect(everything.response_time).toBeGreaterThan(0);
  });

  it('no pagination is documented -> one answer holds everything; paging-like keys are ignored', async () => {
    expect((await r.answer({ page: 2, limit: 1, offset: 10 })).hash).toBe(everything.hash);
    const q = await fetch(`${r.origin}${r.account().basePath}/v1/logs/story-certificates?page=2&per_page=1`, { method: 'POST', headers: { authorization: `Basic ${r.account().token}` }, body: '{}' });
    expect(((await q.json()) as FalkorAnswer).hash).toBe(everything.hash);
  });

  it('errors are {status:"error", message}: malformed JSON, a non-object body and filters of the wrong type are 400', async () => {
    const bad = ['{not json', '[]', '"story"', JSON.stringify({ story: 5 }), JSON.stringify({ app: ['x'] }), JSON.stringify({ users: 'a@b.c' }), JSON.stringify({ groups: [1] })];
    for (const body of bad) {
      const res = await r.post(body);
      expect(res.status, body).toBe(400);
      expect(await res.json()).toEqual(errorShape);
    }
  });

  it('injected 5xx and 429 answers use the same error shape; truncated bodies are cut JSON', async () => {
    await r.control('POST', '/faults', { burst_429: 1, error_rate: 0 });
    const throttled = await r.post({});
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(await throttled.json()).toEqual(errorShape);
    await r.control('POST', '/faults', { error_rate: 1, error_status: 502 });
    const failed = await r.post({});
    expect(failed.status).toBe(502);
    expect(await failed.json()).toEqual(errorShape);
    await r.control('POST', '/faults', { error_rate: 0, truncate_rate: 1 });
    const cut = await (await r.post({})).text();
    expect(() => JSON.parse(cut) as unknown).toThrow();
    await r.control('DELETE', '/faults');
    expect((await r.answer()).hash).toBe(everything.hash);
  });
});
