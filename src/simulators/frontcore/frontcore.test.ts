/**
 * FrontCore simulator over real HTTP: each test is named after the doc sentence it checks
 * (frontcore-diplomas.txt, frontcore-api-overview.txt). Participants, status checks and control
 * routes are in the sibling test files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFrontcore, type DiplomasJson, type Harness } from './frontcore.testkit.ts';

const ZONELESS = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The documented response example, reduced to its keys: every item must have exactly these. */
const DOC_ITEM_KEYS = {
  top: ['id', 'participant_id', 'user', 'course', 'coursedate', 'passed_note', 'is_participated', 'is_completed', 'is_passed', 'is_assessment_completed', 'is_diploma_printed', 'is_sent', 'random_certificate_number', 'serial', 'result_updated_at', 'created_at', 'updated_at', 'deleted_at', 'links'],
  user: ['id', 'firstname', 'lastname', 'email', 'phone', 'date_of_birth', 'gender', 'nationality', 'national_identification_number', 'position', 'company_employee_number', 'created_at', 'updated_at'],
  course: ['id', 'title', 'reference', 'created_at', 'updated_at'],
  coursedate: ['id', 'start_at', 'end_at', 'deadline_at', 'location'],
  location: ['id', 'title', 'address', 'zipcode', 'city', 'country'],
  links: ['download', 'stream'],
};

describe('FrontCore /v2/diplomas (frontcore-diplomas.txt)', () => {
  let h: Harness;
  let userId: number;
  beforeAll(async () => {
    h = await startFrontcore();
    // A user with several diplomas, one of them deleted.
    const d = h.fc.data;
    const deletedRow = Array.from({ length: d.diplomas.length }, (_, i) => i).find((i) => d.diplomas.deletedAt[i] !== 0) ?? 0;
    userId = d.users.id[d.participants.user[d.diplomas.participant[deletedRow] as number] as number] as number;
  });
  afterAll(() => h.close());

  it('"At least one parameter is required." -> 400 {"error"} without user_id and participant_id', async () => {
    const r = await h.get('/v2/diplomas');
    expect(r.status).toBe(400);
    const body = (await r.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['error']);
    expect(typeof body.error).toBe('string');
    expect((await h.get('/v2/diplomas?ttl=60')).status).toBe(400);
    expect((await h.get('/v2/diplomas?user_id=abc')).status).toBe(400);
  });

  it('"If the method is successful it responds with an JSON structure" -> {"success":"ok","items":[...]} with every field of the example', async () => {
    type Obj = Record<string, unknown>;
    type LooseItem = Obj & { user: Obj; course: Obj; coursedate: Obj & { location: Obj }; links: Obj };
    const body = await h.json<{ success: string; items: LooseItem[] }>(`/v2/diplomas?user_id=${userId}`);
    expect(Object.keys(body)).toEqual(['success', 'items']);
    expect(body.success).toBe('ok');
    expect(body.items.length).toBeGreaterThan(0);
    for (const item of body.items) {
      expect(Object.keys(item)).toEqual(DOC_ITEM_KEYS.top);
      expect(Object.keys(item.user)).toEqual(DOC_ITEM_KEYS.user);
      expect(Object.keys(item.course)).toEqual(DOC_ITEM_KEYS.course);
      expect(Object.keys(item.coursedate)).toEqual(DOC_ITEM_KEYS.coursedate);
      expect(Object.keys(item.coursedate.location)).toEqual(DOC_ITEM_KEYS.location);
      expect(Object.keys(item.links)).toEqual(DOC_ITEM_KEYS.links);
      expect(typeof item.id).toBe('number');
      expect(item.user.id).toBe(userId);
      for (const t of [item.created_at, item.updated_at, item.result_updated_at, item.user.created_at, item.course.created_at, item.coursedate.start_at, item.coursedate.end_at, item.coursedate.deadline_at]) {
        expect(t).toMatch(ZONELESS);
      }
      expect(item.random_certificate_number).toMatch(/^[A-Z]{3}\d{6}$/);
    }
  });

  it('"You can filter by user_id to get all diplomas for a user" -> every diploma of that user, sorted by id', async () => {
    const body = await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}`);
    const expected = h.fc.truth().filter((t) => t.subject.provider_user_id === String(userId)).map((t) => Number(t.external_id)).sort((a, b) => a - b);
    expect(body.items.map((i) => i.id)).toEqual(expected);
    expect(await h.json(`/v2/diplomas?user_id=1`)).toEqual({ success: 'ok', items: [] });
  });

  it('"by participant_id to get the diploma for a specific course enrollment" / "or by both"', async () => {
    const all = await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}`);
    const one = all.items[0];
    if (!one) throw new Error('no diploma');
    const byParticipant = await h.json<DiplomasJson>(`/v2/diplomas?participant_id=${one.participant_id}`);
    expect(byParticipant.items.map((i) => i.id)).toEqual([one.id]);
    const both = await h.json<DiplomasJson>(`/v2/diplomas?participant_id=${one.participant_id}&user_id=${userId}`);
    expect(both.items.map((i) => i.id)).toEqual([one.id]);
    const mismatch = await h.json<DiplomasJson>(`/v2/diplomas?participant_id=${one.participant_id}&user_id=${userId + 1}`);
    expect(mismatch.items).toEqual([]);
  });

  it('"deleted_at": deleted diplomas are still returned, with deleted_at set (zone-less)', async () => {
    const body = await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}`);
    const deleted = body.items.filter((i) => i.deleted_at !== null);
    expect(deleted.length).toBeGreaterThan(0);
    for (const d of deleted) expect(d.deleted_at).toMatch(ZONELESS);
  });

  it('"links.download" works without X-API-Key and returns a real, distinct PDF per diploma', async () => {
    const body = await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}`);
    const live = body.items.filter((i) => i.deleted_at === null);
    expect(live.length).toBeGreaterThan(0);
    const pdfs: string[] = [];
    for (const item of live) {
      expect(item.links.download).toBe(`${h.base}/v2/public/course-users/${userId}/diplomas/${item.id}/download?token=${new URL(item.links.download).searchParams.get('token')}`);
      expect(new URL(item.links.download).searchParams.get('token')).toMatch(/^eyJ0eXAiOiJKV1QiLCJhbGc/);
      const r = await fetch(item.links.download);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/pdf');
      const pdf = Buffer.from(await r.arrayBuffer()).toString('latin1');
      expect(pdf.startsWith('%PDF-')).toBe(true);
      expect(pdf).toContain(String(item.id));
      pdfs.push(pdf);
    }
    expect(new Set(pdfs).size).toBe(pdfs.length);
  });

  it('"ttl ... Token expiry time in seconds (default: 900)" -> the download link works until 900 s have passed, then 401', async () => {
    const item = (await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}`)).items.find((i) => i.deleted_at === null);
    if (!item) throw new Error('no live diploma');
    h.advance(899_000);
    expect((await fetch(item.links.download)).status).toBe(200);
    h.advance(1_000);
    const expired = await fetch(item.links.download);
    expect(expired.status).toBe(401);
    expect(Object.keys((await expired.json()) as object)).toEqual(['error']);
  });

  it('"ttl" sets the token lifetime: ttl=60 expires after 60 s; a bad ttl -> 400', async () => {
    const item = (await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}&ttl=60`)).items.find((i) => i.deleted_at === null);
    if (!item) throw new Error('no live diploma');
    h.advance(59_000);
    expect((await fetch(item.links.download)).status).toBe(200);
    h.advance(1_000);
    expect((await fetch(item.links.download)).status).toBe(401);
    expect((await h.get(`/v2/diplomas?user_id=${userId}&ttl=0`)).status).toBe(400);
    expect((await h.get(`/v2/diplomas?user_id=${userId}&ttl=ten`)).status).toBe(400);
  });

  it('a forged or borrowed download token -> 403 {"error"}; a missing one -> 401', async () => {
    const items = (await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}`)).items.filter((i) => i.deleted_at === null);
    const [a, b] = items;
    if (!a) throw new Error('no live diploma');
    const token = new URL(a.links.download).searchParams.get('token') ?? '';
    const forged = `${token.slice(0, -4)}AAAA`;
    const r = await fetch(a.links.download.replace(token, forged));
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ error: 'Invalid token' });
    if (b) expect((await fetch(b.links.download.replace(new URL(b.links.download).searchParams.get('token') ?? '', token))).status).toBe(403);
    expect((await fetch(a.links.download.split('?')[0] ?? '')).status).toBe(401);
  });

  it('"links.stream" needs the X-API-Key: without it 401, with it the PDF inline', async () => {
    const item = (await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}`)).items.find((i) => i.deleted_at === null);
    if (!item) throw new Error('no live diploma');
    expect(item.links.stream).toBe(`${h.base}/v2/course-users/${userId}/diplomas/${item.id}/download?stream=true`);
    expect((await fetch(item.links.stream)).status).toBe(401);
    const r = await fetch(item.links.stream, { headers: { 'X-API-Key': h.key } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/pdf');
    expect(r.headers.get('content-disposition')).toMatch(/^inline/);
    const deleted = (await h.json<DiplomasJson>(`/v2/diplomas?user_id=${userId}`)).items.find((i) => i.deleted_at !== null);
    if (!deleted) throw new Error('no deleted diploma');
    expect((await fetch(deleted.links.stream, { headers: { 'X-API-Key': h.key } })).status).toBe(404);
  });
});

describe('FrontCore auth, errors and rate limits (frontcore-api-overview.txt)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startFrontcore({ rateLimit: { limit: 5, windowMs: 1000 } });
  });
  afterAll(() => h.close());

  it('"present the API access key in the HTTP Header as X-API-Key" -> missing or wrong key: 401 {"error": "Wrong API Key"}', async () => {
    for (const k of [null, 'nope', `${h.key}x`]) {
      const r = await h.get('/v2/diplomas?user_id=1', k);
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ error: 'Wrong API Key' });
      const p = await h.get('/v2/participants', k);
      expect(p.status).toBe(401);
    }
    h.advance(5_000);
  });

  it('"5 requests per second per account" -> six requests in one second from one account get a 429; a second account is not affected', async () => {
    h.advance(5_000);
    const six = await Promise.all(Array.from({ length: 6 }, () => h.get('/v2/participants?limit=1')));
    expect(six.filter((r) => r.status === 200)).toHaveLength(5);
    expect(six.filter((r) => r.status === 429)).toHaveLength(1);
    const other = await Promise.all(Array.from({ length: 5 }, () => h.get('/v2/participants?limit=1', h.key2)));
    expect(other.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('"This limit applies across your entire account." -> every endpoint and connection of the key shares one window', async () => {
    h.advance(5_000);
    const mixed = await Promise.all([
      h.get('/v2/participants?limit=1'),
      h.get('/v2/diplomas?user_id=1'),
      h.get('/v2/certificates/status?user_id=1&course_id=1'),
      fetch(`${h.base}/v2/participants?limit=1`, { headers: { 'X-API-Key': h.key, connection: 'close' } }),
      h.get('/v2/participants?limit=1'),
    ]);
    expect(mixed.every((r) => r.status === 200)).toBe(true);
    expect((await h.get('/v2/diplomas?user_id=1')).status).toBe(429);
  });

  it('"we\'ll start returning 429 Too Many Requests responses" -> {"error": "Too Many Requests"}, Retry-After: 1, and service again a second later', async () => {
    h.advance(5_000);
    for (let i = 0; i < 5; i++) expect((await h.get('/v2/participants?limit=1')).status).toBe(200);
    const r = await h.get('/v2/participants?limit=1');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(await r.json()).toEqual({ error: 'Too Many Requests' });
    h.advance(1_000);
    expect((await h.get('/v2/participants?limit=1')).status).toBe(200);
    const counters = (await (await h.control('GET', '/counters')).json()) as { throttled_429: number };
    expect(counters.throttled_429).toBeGreaterThanOrEqual(3);
  });

  it('"Unsuccessful response sample: {"error": "Wrong API Key"}" -> injected 5xx and 429 use the same {"error"} shape', async () => {
    h.advance(5_000);
    await h.control('POST', '/faults', { error_rate: 1, error_status: 503 });
    const e = await h.get('/v2/participants');
    expect(e.status).toBe(503);
    expect(Object.keys((await e.json()) as object)).toEqual(['error']);
    await h.control('POST', '/faults', { error_rate: 0, burst_429: 1 });
    const t = await h.get('/v2/participants');
    expect(t.status).toBe(429);
    expect(await t.json()).toEqual({ error: 'Too Many Requests' });
    await h.control('DELETE', '/faults');
    const nf = await h.get('/v2/nothing-here');
    expect(nf.status).toBe(404);
    expect(Object.keys((await nf.json()) as object)).toEqual(['error']);
  });

  it('sourceConfigs() gives the certhub.yaml entry for this simulator, and /__sim/accounts both keys', async () => {
    expect(h.fc.sourceConfigs()).toEqual([{ id: 'frontcore-main', provider: 'frontcore', base_url: h.base, api_key: h.key, timezone: 'Europe/Oslo' }]);
    const accounts = (await (await h.control('GET', '/accounts')).json()) as { name: string; api_key: string }[];
    expect(accounts).toEqual([
      { name: 'main', api_key: h.key },
      { name: 'second', api_key: h.key2 },
    ]);
    expect(h.key).not.toBe(h.key2);
  });
});
