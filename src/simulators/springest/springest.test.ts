/**
 * Springest simulator over real HTTP: each test is named after the sentence of
 * springest-certificates.txt (or DESIGN.md "Provider facts") it checks. Control routes, truth and
 * determinism are in control.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCertificatePdf } from '../common/pdf.ts';
import type { Certification } from './index.ts';
import { AS_OF, startSpringest, type Harness } from './springest.testkit.ts';

const DOC_FIELDS = ['id', 'name', 'description', 'certification_id', 'valid_from', 'valid_until', 'status', 'created_at', 'user'];
const pdf = makeCertificatePdf(['Certificate', 'Åse Ødegård', 'VCA Basis']);

let h: Harness;
beforeEach(async () => {
  h = await startSpringest({ limits: { requestsPerHour: 100_000 } });
});
afterEach(() => h.close());

const certification = (pred: (c: Certification) => boolean): Certification => {
  const c = h.sp.host.certifications.find(pred);
  if (!c) throw new Error('no such certification');
  return c;
};
const requiring = (): Certification => certification((c) => c.verified && c.requires_valid_until);
const notRequiring = (): Certification => certification((c) => c.verified && !c.requires_valid_until);
const errorOf = async (r: Response): Promise<string> => {
  const body = (await r.json()) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  return String(body.error);
};

describe('GET /users/certificates', () => {
  it('"GET /users/certificates?api_key=YOUR_PRIVATE_API_KEY Get the verified certificates" -> {"certificates":[...]} with every listed field, sorted by id, unpaged', async () => {
    const r = await h.get(`/users/certificates?api_key=${h.key}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    const body = (await r.json()) as { certificates: Record<string, unknown>[] };
    expect(Object.keys(body)).toEqual(['certificates']);
    expect(body.certificates.length).toBe(h.sp.truth().length);
    for (const c of body.certificates) {
      expect(Object.keys(c)).toEqual(DOC_FIELDS);
      expect(Object.keys(c.user as object)).toEqual(['email', 'external_id']);
      expect(c.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(c.valid_from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(c.status).toBe('approved');
    }
    const ids = body.certificates.map((c) => c.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('"Access to this feature is restricted to authorized API users only." -> 401 {"error"} without or with a wrong api_key', async () => {
    for (const q of ['', '?api_key=', '?api_key=nope', `?api_key=${h.key.toUpperCase()}`]) {
      const r = await h.get(`/users/certificates${q}`);
      expect(r.status).toBe(401);
      expect(await errorOf(r)).toContain('api_key');
    }
    expect((await h.post({}, pdf, 'nope')).status).toBe(401);
  });

  it('"(Note: you will need a different api_key for certifications)" -> each key is refused (401) where the other belongs', async () => {
    expect(h.key).not.toBe(h.certificationsKey);
    expect((await h.get(`/users/certificates?api_key=${h.certificationsKey}`)).status).toBe(401);
    expect((await h.post({}, pdf, h.certificationsKey)).status).toBe(401);
    expect((await h.get(`/certifications?api_key=${h.key}`)).status).toBe(401);
    expect((await h.get(`/certifications?api_key=${h.certificationsKey}`)).status).toBe(200);
  });

  it('"If the parameter email is passed along, it returns only certificates for the user corresponding to that email." (case-insensitive, exact)', async () => {
    const all = await h.list();
    const some = all.find((c) => c.user.email !== c.user.email.toLowerCase()) ?? all[3];
    if (!some) throw new Error('no certificates');
    const expected = all.filter((c) => c.user.external_id === some.user.external_id).map((c) => c.id);
    for (const spelled of [some.user.email, some.user.email.trim().toUpperCase(), some.user.email.trim().toLowerCase()]) {
      expect((await h.list(`&email=${encodeURIComponent(spelled)}`)).map((c) => c.id)).toEqual(expected);
    }
    const [local = '', domain = ''] = some.user.email.trim().split('@');
    expect(await h.list(`&email=${encodeURIComponent(`${local.slice(1)}@${domain}`)}`)).toEqual([]);
    expect(await h.list('&email=nobody%40example.com')).toEqual([]);
  });

  it('"If the parameter certification_id is passed along, it returns only certificates for the certification corresponding to that certification_id."', async () => {
    const all = await h.list();
    const id = all[0]?.certification_id;
    const certs = await h.list(`&certification_id=${id}`);
    expect(certs.map((c) => c.id)).toEqual(all.filter((c) => c.certification_id === id).map((c) => c.id));
    expect(certs.length).toBeGreaterThan(0);
    expect(await h.list('&certification_id=999999')).toEqual([]);
    expect((await h.list(`&certification_id=${id}&email=${encodeURIComponent(certs[0]?.user.email ?? '')}`)).every((c) => c.certification_id === id && c.user.email === certs[0]?.user.email)).toBe(true);
  });

  it('"If the parameter created_from is passed along, it returns only certificates created on or after that date." -> inclusive, from midnight in Europe/Amsterdam', async () => {
    const id = notRequiring().id;
    // 2026-06-02 21:59:59Z is 23:59:59 on the 2nd in Amsterdam; 22:00:00Z is already midnight of the 3rd.
    const add = async (at: string): Promise<number> => {
      h.setNow(Date.parse(at));
      return ((await (await h.control('POST', '/certificates', { person_key: h.world.people[0]?.key, certification_id: id, valid_from: AS_OF })).json()) as { id: number }).id;
    };
    const late2nd = await add('2026-06-02T21:59:59Z');
    const early3rd = await add('2026-06-02T22:00:00Z');
    const from3 = (await h.list('&created_from=2026-06-03')).map((c) => c.id);
    expect(from3).toEqual([early3rd]);
    const from2 = (await h.list('&created_from=2026-06-02')).map((c) => c.id);
    expect(from2).toContain(late2nd);
    expect(from2).toContain(early3rd);
    expect(await h.list('&created_from=2026-06-04')).toEqual([]);
    expect((await h.list('&created_from=2000-01-01')).length).toBe((await h.list()).length);
  });

  it('"created_from (Date; YYYY-MM-DD; optional)" -> 400 {"error"} for anything else', async () => {
    for (const bad of ['01-06-2026', '2026-6-1', '2026-02-30', 'yesterday', '2026-06-01T00:00:00Z']) {
      const r = await h.get(`/users/certificates?api_key=${h.key}&created_from=${encodeURIComponent(bad)}`);
      expect(r.status).toBe(400);
      expect(await errorOf(r)).toContain('created_from');
    }
  });

  it('"Format: json" -> /users/certificates.json is the same; "GET /users/certificates.xml" -> 406 {"error"} (XML is not simulated)', async () => {
    const plain = await (await h.get(`/users/certificates?api_key=${h.key}`)).text();
    expect(await (await h.get(`/users/certificates.json?api_key=${h.key}`)).text()).toBe(plain);
    for (const path of [`/users/certificates.xml?api_key=${h.key}`, `/certifications.xml?api_key=${h.certificationsKey}`]) {
      const r = await h.get(path);
      expect(r.status).toBe(406);
      await errorOf(r);
    }
  });

  it('"Certificates belong to Certifications." -> name and description are the certification\'s; every certificate of an unverified one is hidden', async () => {
    const byId = new Map(h.sp.host.certifications.map((c) => [c.id, c]));
    const all = await h.list();
    for (const c of all) {
      const cert = byId.get(c.certification_id);
      expect(cert?.verified).toBe(true);
      expect([c.name, c.description]).toEqual([cert?.name, cert?.description]);
    }
    expect(h.sp.host.certifications.filter((c) => !c.verified)).toHaveLength(2);
  });

  it('data: valid (with or without end), expired, not yet valid and expiring within 60 days of asOf', async () => {
    const certs = await h.list();
    const soon = '2026-07-31';
    expect(certs.filter((c) => c.valid_until !== null && c.valid_until < AS_OF).length).toBeGreaterThan(3);
    expect(certs.filter((c) => c.valid_from > AS_OF).length).toBeGreaterThan(3);
    expect(certs.filter((c) => c.valid_until !== null && c.valid_until >= AS_OF && c.valid_until <= soon).length).toBeGreaterThan(3);
    expect(certs.filter((c) => c.valid_until === null).length).toBeGreaterThan(3);
    expect(certs.filter((c) => c.valid_from <= AS_OF && c.valid_until !== null && c.valid_until > soon).length).toBeGreaterThan(3);
    const perUser = new Map<string, number>();
    for (const c of h.sp.truth()) perUser.set(c.subject.provider_user_id ?? '', (perUser.get(c.subject.provider_user_id ?? '') ?? 0) + 1);
    expect(Math.max(...perUser.values())).toBeLessThanOrEqual(6);
    expect(Math.max(...perUser.values())).toBeGreaterThan(3);
  });

  it('"about 4000 requests/hour per key" (DESIGN.md) -> over the (here lowered) hourly limit 429 {"error"} with Retry-After, per key, free again an hour later', async () => {
    await h.close();
    h = await startSpringest({ limits: { requestsPerHour: 5 } });
    for (let i = 0; i < 5; i++) expect((await h.get(`/users/certificates?api_key=${h.key}&email=x%40y.z`)).status).toBe(200);
    const over = await h.get(`/users/certificates?api_key=${h.key}`);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBe(3600);
    await errorOf(over);
    expect((await h.get(`/certifications?api_key=${h.certificationsKey}`)).status).toBe(200);
    h.advance(3_600_001);
    expect((await h.get(`/users/certificates?api_key=${h.key}`)).status).toBe(200);
  });

  it('injected 5xx / 429 and unknown paths answer in the same {"error"} shape; injected truncation cuts the certificate list', async () => {
    await h.control('POST', '/faults', { burst_429: 1, error_rate: 1, error_status: 502 });
    const throttled = await h.get(`/users/certificates?api_key=${h.key}`);
    expect(throttled.status).toBe(429);
    await errorOf(throttled);
    const failed = await h.get(`/users/certificates?api_key=${h.key}`);
    expect(failed.status).toBe(502);
    await errorOf(failed);
    await h.control('POST', '/faults', { error_rate: 0, truncate_rate: 1 });
    const cut = await h.get(`/users/certificates?api_key=${h.key}`);
    expect(cut.status).toBe(200);
    await expect(cut.json()).rejects.toThrow();
    expect(((await (await h.control('GET', '/counters')).json()) as { faults_injected: Record<string, number> }).faults_injected.truncated_body).toBe(1);
    await h.control('DELETE', '/faults');
    const missing = await h.get('/users/diplomas');
    expect(missing.status).toBe(404);
    await errorOf(missing);
  });
});

describe('POST /users/certificates', () => {
  const fields = (c: Certification, extra: Record<string, string> = {}): Record<string, string> => ({
    certification_id: String(c.id),
    email: 'new.person@example.com',
    valid_from: '2026-05-01',
    ...(c.requires_valid_until ? { valid_until: '2031-05-01' } : {}),
    ...extra,
  });

  it('"Format: multipart/form-data" with conversion_id, certification_id, email, valid_from, valid_until, file -> 201 {"certificate"}: a new id, created_at now, then visible via GET', async () => {
    const before = await h.list();
    const r = await h.post(fields(requiring(), { conversion_id: '77' }), pdf);
    expect(r.status).toBe(201);
    const { certificate } = (await r.json()) as { certificate: { id: number; created_at: string; status: string; valid_until: string } };
    expect(certificate.id).toBeGreaterThan(Math.max(...before.map((c) => c.id)));
    expect(certificate.created_at).toBe(new Date(h.now()).toISOString().replace('.000Z', 'Z'));
    expect([certificate.status, certificate.valid_until]).toEqual(['approved', '2031-05-01']);
    const listed = await h.list('&email=NEW.PERSON%40example.com');
    expect(listed).toEqual([certificate]);
    expect((await h.list(`&created_from=2026-06-02`)).map((c) => c.id)).toEqual([certificate.id]);
  });

  it('"We will process the certificates and make it available in our system for the particular employee" -> a known email (any case) lands on that employee', async () => {
    const someone = (await h.list())[5];
    if (!someone) throw new Error('no certificates');
    const other = h.sp.host.certifications.find((c) => c.verified && !c.requires_valid_until && c.id !== someone.certification_id) ?? notRequiring();
    const r = await h.post(fields(other, { email: someone.user.email.trim().toUpperCase() }), pdf);
    const { certificate } = (await r.json()) as { certificate: { user: { email: string; external_id: string } } };
    expect(certificate.user).toEqual(someone.user);
  });

  it('"certification_id (integer; required)", "email (string; required)", "valid_from (date; required)", "file (file; required)" -> 400 naming each', async () => {
    const r = await h.post({});
    expect(r.status).toBe(400);
    const error = await errorOf(r);
    for (const f of ['certification_id', 'email', 'valid_from', 'file']) expect(error).toContain(f);
    const bads: Record<string, string>[] = [{ certification_id: 'abc' }, { certification_id: '999999' }, { email: 'not-an-email' }, { valid_from: '01-05-2026' }, { valid_until: 'soon' }];
    for (const bad of bads) {
      expect((await h.post(fields(requiring(), bad), pdf)).status).toBe(400);
    }
  });

  it('"valid_until (date; required if the certification\'s "requires_valid_until" is true)"', async () => {
    const r = await h.post({ certification_id: String(requiring().id), email: 'a@example.com', valid_from: '2026-05-01' }, pdf);
    expect(r.status).toBe(400);
    expect(await errorOf(r)).toContain('valid_until is required');
    const ok = await h.post({ certification_id: String(notRequiring().id), email: 'a@example.com', valid_from: '2026-05-01' }, pdf);
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { certificate: { valid_until: unknown } }).certificate.valid_until).toBeNull();
  });

  it('"conversion_id (integer; optional)" -> a non-integer is refused', async () => {
    expect((await h.post(fields(notRequiring(), { conversion_id: 'x1' }), pdf)).status).toBe(400);
  });

  it('"Actual file sent cannot be decoded. Base64 is not allowed. We prefer filetype .pdf" -> base64 and non-PDF files 400', async () => {
    const r = await h.post(fields(requiring()), pdf.toString('base64'));
    expect(r.status).toBe(400);
    expect(await errorOf(r)).toContain('Base64 is not allowed');
    expect((await h.post(fields(requiring()), `data:application/pdf;base64,${pdf.toString('base64')}`)).status).toBe(400);
    const notPdf = await h.post(fields(requiring()), Buffer.from('PK\u0003\u0004 a zip, not a pdf'));
    expect(notPdf.status).toBe(400);
    expect(await errorOf(notPdf)).toContain('PDF');
  });

  it('"Format: multipart/form-data" -> a JSON or urlencoded body is 400', async () => {
    const json = await fetch(`${h.base}/users/certificates?api_key=${h.key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields(notRequiring())) });
    expect(json.status).toBe(400);
    const form = await fetch(`${h.base}/users/certificates?api_key=${h.key}`, { method: 'POST', body: new URLSearchParams(fields(notRequiring())) });
    expect(form.status).toBe(400);
  });

  it('"At the moment we have a limit of POSTing max 30 certificates per minute. Contact us if this gives 400 bad request errors."', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await h.post(fields(notRequiring(), { email: `p${i}@example.com` }), pdf)).status);
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(201));
    expect(statuses[30]).toBe(400);
    h.advance(59_000);
    expect((await h.post(fields(notRequiring()), pdf)).status).toBe(400);
    h.advance(2_000);
    expect((await h.post(fields(notRequiring()), pdf)).status).toBe(201);
  });

  it('"When a certificate is received we store it in our database, it will only be visible via GET calls if the linked certification_id is verified by a Springest employee first."', async () => {
    const unverified = certification((c) => !c.verified);
    const r = await h.post(fields(unverified, { email: 'hidden@example.com', valid_until: '2029-05-01' }), pdf);
    expect(r.status).toBe(201);
    expect(await h.list('&email=hidden%40example.com')).toEqual([]);
    const posted = (await (await h.control('GET', '/posted')).json()) as { email?: string; visible: boolean; file: { bytes: number } }[];
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ visible: false, file: { bytes: pdf.length } });
    expect((await h.control('POST', `/certifications/${unverified.id}/verify`)).status).toBe(200);
    expect(await h.list('&email=hidden%40example.com')).toHaveLength(1);
  });
});

describe('GET /certifications', () => {
  it('"GET: /certifications: to be able to see all verified certifications per domain." -> {"certifications":[{id, name, description, requires_valid_until}]}, verified only', async () => {
    const r = await h.get(`/certifications?api_key=${h.certificationsKey}`);
    const body = (await r.json()) as { certifications: Record<string, unknown>[] };
    expect(Object.keys(body)).toEqual(['certifications']);
    const verified = h.sp.host.certifications.filter((c) => c.verified);
    expect(body.certifications).toEqual(verified.map((c) => ({ id: c.id, name: c.name, description: c.description, requires_valid_until: c.requires_valid_until })));
    expect(body.certifications.some((c) => c.requires_valid_until === true) && body.certifications.some((c) => c.requires_valid_until === false)).toBe(true);
    expect(await (await h.get(`/certifications.json?api_key=${h.certificationsKey}`)).json()).toEqual(body);
    expect((await h.get('/certifications')).status).toBe(401);
  });
});
