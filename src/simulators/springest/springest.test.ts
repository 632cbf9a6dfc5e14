import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateWorld } from '../common/world.ts';
import { makeCertificatePdf } from '../common/pdf.ts';
import type { TruthCertificate } from '../common/truth.ts';
import { createSpringestSimulator, type SpringestSimulator } from './index.ts';

const world = (): ReturnType<typeof generateWorld> => generateWorld({ seed: 'springest-test', people: 250, asOf: '2026-06-01' });

interface Cert {
  id: number;
  name: string;
  description: string;
  certification_id: number;
  valid_from: string;
  valid_until: string | null;
  status: string;
  created_at: string;
  user: { email: string; external_id: string };
}

let sp: SpringestSimulator;
let origin: string;
let now: Date;
beforeEach(async () => {
  now = new Date('2026-06-01T12:00:00Z');
  sp = createSpringestSimulator({ world: world(), clock: () => now, limits: { requestsPerHour: 50 } });
  origin = await sp.sim.listen(0);
});
afterEach(async () => {
  await sp.sim.close();
});

const list = async (query = ''): Promise<Cert[]> => {
  const r = await fetch(`${origin}/users/certificates?api_key=${sp.host.apiKey}${query}`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { certificates: Cert[] }).certificates;
};

function form(fields: Record<string, string>, file?: Buffer | string): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (file !== undefined) fd.append('file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)], { type: 'application/pdf' }), 'certificate.pdf');
  return fd;
}
const postCert = (fd: FormData, key = sp.host.apiKey): Promise<Response> => fetch(`${origin}/users/certificates?api_key=${key}`, { method: 'POST', body: fd });
const verified = (): SpringestSimulator['host']['certifications'] => sp.host.certifications.filter((c) => c.verified);
const pdf = makeCertificatePdf(['Certificate', 'Åse Ødegård', 'VCA Basis']);

describe('Springest simulator: GET /users/certificates', () => {
  it('"GET /users/certificates?api_key=YOUR_PRIVATE_API_KEY Get the verified certificates": every documented field', async () => {
    const certs = await list();
    expect(certs.length).toBeGreaterThan(50);
    expect(Object.keys(certs[0] ?? {}).sort()).toEqual(['certification_id', 'created_at', 'description', 'id', 'name', 'status', 'user', 'valid_from', 'valid_until'].sort());
    expect(Object.keys(certs[0]?.user ?? {}).sort()).toEqual(['email', 'external_id']);
  });

  it('a wrong or missing api_key is refused with 401', async () => {
    for (const q of ['?api_key=nope', '', `?api_key=${sp.host.certificationsKey}`]) {
      const r = await fetch(`${origin}/users/certificates${q}`);
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ error: expect.any(String) as string });
    }
  });

  it('"If the parameter email is passed along, it returns only certificates for the user corresponding to that email."', async () => {
    const some = (await list())[3] as Cert;
    const mine = await list(`&email=${encodeURIComponent(some.user.email.trim().toUpperCase())}`);
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((c) => c.user.external_id))).toEqual(new Set([some.user.external_id]));
  });

  it('"If the parameter certification_id is passed along, it returns only certificates for the certification corresponding to that certification_id."', async () => {
    const id = verified()[2]?.id;
    const certs = await list(`&certification_id=${id}`);
    expect(certs.length).toBeGreaterThan(0);
    expect(certs.every((c) => c.certification_id === id)).toBe(true);
  });

  it('"If the parameter created_from is passed along, it returns only certificates created on or after that date." (inclusive, host time zone)', async () => {
    const all = await list();
    const pick = all[10] as Cert;
    const day = new Date(Date.parse(pick.created_at)).toLocaleDateString('en-CA', { timeZone: 'Europe/Amsterdam' });
    const from = await list(`&created_from=${day}`);
    expect(from.map((c) => c.id)).toContain(pick.id);
    const startOfDay = Date.parse(`${day}T00:00:00Z`) - 2 * 3600_000; // at most the Amsterdam offset before UTC midnight
    expect(from.every((c) => Date.parse(c.created_at) >= startOfDay)).toBe(true);
    expect(from.length).toBeLessThan(all.length);
    const bad = await fetch(`${origin}/users/certificates?api_key=${sp.host.apiKey}&created_from=01-06-2026`);
    expect(bad.status).toBe(400);
  });

  it('has valid, expired, not-yet-valid and soon-expiring certificates around the sandbox date', async () => {
    const certs = await list();
    const today = '2026-06-01';
    expect(certs.some((c) => c.valid_until !== null && c.valid_until < today)).toBe(true);
    expect(certs.some((c) => c.valid_from > today)).toBe(true);
    expect(certs.some((c) => c.valid_until !== null && c.valid_until >= today && c.valid_until <= '2026-07-31')).toBe(true);
    expect(certs.some((c) => c.valid_until === null)).toBe(true);
  });

  it('the .xml variant is not served (406), the .json one is', async () => {
    expect((await fetch(`${origin}/users/certificates.xml?api_key=${sp.host.apiKey}`)).status).toBe(406);
    expect((await fetch(`${origin}/users/certificates.json?api_key=${sp.host.apiKey}`)).status).toBe(200);
  });

  it('"about 4000 requests/hour per key": over the (here lowered) hourly limit -> 429 with Retry-After', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 51; i++) last = await fetch(`${origin}/users/certificates?api_key=${sp.host.apiKey}&email=x@y.z`);
    expect(last?.status).toBe(429);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('Springest simulator: POST /users/certificates', () => {
  const vca = (): NonNullable<SpringestSimulator['host']['certifications'][number]> => sp.host.certifications.find((c) => c.name === 'VCA Basis') ?? (sp.host.certifications[0] as never);

  it('"Format: multipart/form-data" with certification_id, email, valid_from, valid_until, file: accepted, then visible via GET', async () => {
    const r = await postCert(form({ certification_id: String(vca().id), email: 'new.person@example.com', valid_from: '2026-05-01', valid_until: '2036-05-01', conversion_id: '77' }, pdf));
    expect(r.status).toBe(201);
    const { certificate } = (await r.json()) as { certificate: Cert };
    expect((await list('&email=new.person@example.com')).map((c) => c.id)).toEqual([certificate.id]);
    const posted = (await (await fetch(`${origin}/__sim/posted`)).json()) as { id: number; file: { bytes: number; conversion_id: number } }[];
    expect(posted.find((p) => p.id === certificate.id)?.file).toMatchObject({ bytes: pdf.length, conversion_id: 77 });
  });

  it('"valid_until (date; required if the certification\'s "requires_valid_until" is true)"', async () => {
    const r = await postCert(form({ certification_id: String(vca().id), email: 'a@example.com', valid_from: '2026-05-01' }, pdf));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain('valid_until is required');
    const itil = sp.host.certifications.find((c) => !c.requires_valid_until && c.verified);
    expect((await postCert(form({ certification_id: String(itil?.id), email: 'a@example.com', valid_from: '2026-05-01' }, pdf))).status).toBe(201);
  });

  it('"certification_id (integer; required)", "email (string; required)", "valid_from (date; required)", "file (file; required)"', async () => {
    const r = await postCert(form({}));
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as { error: string };
    for (const f of ['certification_id', 'email', 'valid_from', 'file']) expect(error).toContain(f);
  });

  it('"Actual file sent cannot be decoded. Base64 is not allowed."', async () => {
    const r = await postCert(form({ certification_id: String(vca().id), email: 'b@example.com', valid_from: '2026-05-01', valid_until: '2030-01-01' }, pdf.toString('base64')));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain('Base64 is not allowed');
    const notPdf = await postCert(form({ certification_id: String(vca().id), email: 'b@example.com', valid_from: '2026-05-01', valid_until: '2030-01-01' }, Buffer.from('hello')));
    expect(notPdf.status).toBe(400);
  });

  it('"a limit of POSTing max 30 certificates per minute. Contact us if this gives 400 bad request errors."', async () => {
    const itil = sp.host.certifications.find((c) => !c.requires_valid_until && c.verified);
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await postCert(form({ certification_id: String(itil?.id), email: `p${i}@example.com`, valid_from: '2026-05-01' }, pdf))).status);
    expect(statuses.slice(0, 30).every((s) => s === 201)).toBe(true);
    expect(statuses[30]).toBe(400);
    now = new Date(now.getTime() + 61_000);
    expect((await postCert(form({ certification_id: String(itil?.id), email: 'later@example.com', valid_from: '2026-05-01' }, pdf))).status).toBe(201);
  });

  it('"it will only be visible via GET calls if the linked certification_id is verified by a Springest employee first."', async () => {
    const unverified = sp.host.certifications.find((c) => !c.verified);
    const r = await postCert(form({ certification_id: String(unverified?.id), email: 'hidden@example.com', valid_from: '2026-05-01', valid_until: '2029-05-01' }, pdf));
    expect(r.status).toBe(201);
    expect(await list('&email=hidden@example.com')).toEqual([]);
    await fetch(`${origin}/__sim/certifications/${unverified?.id}/verify`, { method: 'POST' });
    expect(await list('&email=hidden@example.com')).toHaveLength(1);
  });
});

describe('Springest simulator: GET /certifications', () => {
  it('"you will need a different api_key for certifications": the certificates key is refused, the certifications key lists verified ones', async () => {
    expect((await fetch(`${origin}/certifications?api_key=${sp.host.apiKey}`)).status).toBe(401);
    const r = await fetch(`${origin}/certifications?api_key=${sp.host.certificationsKey}`);
    const { certifications } = (await r.json()) as { certifications: { id: number; name: string; description: string; requires_valid_until: boolean }[] };
    expect(certifications.length).toBe(verified().length);
    expect(Object.keys(certifications[0] ?? {}).sort()).toEqual(['description', 'id', 'name', 'requires_valid_until']);
    expect(certifications.some((c) => c.requires_valid_until)).toBe(true);
  });
});

describe('Springest simulator: hosts, determinism, truth', () => {
  it('several country hosts: each has its own keys and data', () => {
    const de = createSpringestSimulator({ world: world(), country: 'de' });
    expect(de.host.apiKey).not.toBe(sp.host.apiKey);
    expect(de.truth().length).toBeLessThan(sp.truth().length);
    expect(de.sourceConfigs()[0]?.id).toBe('springest-de');
  });

  it('same seed gives the same responses byte for byte', async () => {
    const other = createSpringestSimulator({ world: world(), clock: () => now });
    const url = await other.sim.listen(0);
    try {
      const a = await (await fetch(`${origin}/users/certificates?api_key=${sp.host.apiKey}`)).text();
      const b = await (await fetch(`${url}/users/certificates?api_key=${other.host.apiKey}`)).text();
      expect(a === b).toBe(true);
    } finally {
      await other.sim.close();
    }
  });

  it('the truth equals what GET serves, normalized independently; control changes follow', async () => {
    const served = (await list()).map((c) => ({ external_id: String(c.id), email: c.user.email, achievement: String(c.certification_id), title: c.name, valid_from: c.valid_from, valid_until: c.valid_until, issued_at: c.created_at }));
    const truth = (await (await fetch(`${origin}/__sim/truth`)).json()) as TruthCertificate[];
    const mapped = truth.map((t) => ({ external_id: t.external_id, email: t.subject.email, achievement: t.achievement.external_id, title: t.achievement.title, valid_from: t.valid_from, valid_until: t.valid_until, issued_at: t.issued_at }));
    expect(mapped).toEqual(served.sort((x, y) => (x.external_id < y.external_id ? -1 : 1)));
    const id = served[0]?.external_id;
    await fetch(`${origin}/__sim/certificates/${id}`, { method: 'PATCH', body: JSON.stringify({ valid_until: '2027-01-01' }) });
    expect(sp.truth().find((t) => t.external_id === id)?.valid_until).toBe('2027-01-01');
    await fetch(`${origin}/__sim/certificates/${id}`, { method: 'DELETE' });
    expect(sp.truth().find((t) => t.external_id === id)).toBeUndefined();
    const added = await fetch(`${origin}/__sim/certificates`, { method: 'POST', body: JSON.stringify({ person_key: 'p000001', certification_id: verified()[0]?.id, valid_from: '2026-06-01', valid_until: null }) });
    expect(added.status).toBe(201);
    expect(sp.truth().length).toBe(served.length);
  });
});
