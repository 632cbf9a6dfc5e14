import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from './prng.ts';
import { generateWorld } from './world.ts';
import { makeCertificatePdf } from './pdf.ts';
import { createSimServer, jsonResponse, type SimServer } from './server.ts';
import { createWindowLimiter } from './ratelimit.ts';
import { formatWithOffset, formatZoneless, parseZoneless } from './time.ts';

describe('seeded world', () => {
  it('same seed gives the same people byte for byte; another seed differs', () => {
    const a = generateWorld({ seed: 7, people: 300, asOf: '2026-06-01' });
    const b = generateWorld({ seed: 7, people: 300, asOf: '2026-06-01' });
    const c = generateWorld({ seed: 8, people: 300, asOf: '2026-06-01' });
    const dump = (w: typeof a): string => JSON.stringify(w.people.map((p) => ({ ...p, providers: [...p.providers] })));
    expect(dump(a)).toBe(dump(b));
    expect(dump(a)).not.toBe(dump(c));
    expect(createRng('x').next()).toBe(createRng('x').next());
  });

  it('has overlapping people, Norwegian letters, near-duplicates that differ in birth date, and valid national ids', () => {
    const w = generateWorld({ seed: 1, people: 2000, asOf: '2026-06-01' });
    expect(w.people.filter((p) => p.providers.size >= 2).length).toBeGreaterThan(500);
    expect(w.people.some((p) => /[æøåÆØÅ]/.test(p.firstName + p.lastName))).toBe(true);
    const dups = w.people.filter((p) => p.nearDuplicateOf !== null);
    expect(dups.length).toBeGreaterThan(10);
    for (const d of dups) {
      const other = w.people.find((p) => p.key === d.nearDuplicateOf);
      expect(other?.firstName).toBe(d.firstName);
      expect(other?.lastName).toBe(d.lastName);
      expect(other?.dateOfBirth).not.toBe(d.dateOfBirth);
      expect(other?.email).not.toBe(d.email);
    }
    const withNin = w.people.filter((p) => p.nationalId !== null);
    expect(withNin.length).toBeGreaterThan(400);
    for (const p of withNin) {
      const [y, m, d] = p.dateOfBirth.split('-');
      expect(p.nationalId).toMatch(new RegExp(`^${d}${m}${y?.slice(2)}\\d{5}$`));
    }
    expect(new Set(w.people.map((p) => p.email)).size).toBe(w.people.length);
    expect(w.people.some((p) => w.emailFor(p, 'falkor') !== p.email && w.emailFor(p, 'falkor').trim().toLowerCase() === p.email)).toBe(true);
  });
});

describe('pdf', () => {
  it('makes a real, distinct PDF per certificate', () => {
    const a = makeCertificatePdf(['Certificate', 'Øystein Ødegård', 'SAFE-101', 'id 1']);
    const b = makeCertificatePdf(['Certificate', 'Øystein Ødegård', 'SAFE-101', 'id 2']);
    expect(a.subarray(0, 5).toString()).toBe('%PDF-');
    expect(a.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    expect(a.equals(b)).toBe(false);
    const text = a.toString('latin1');
    const xref = Number(/startxref\n(\d+)/.exec(text)?.[1]);
    expect(text.slice(xref, xref + 4)).toBe('xref');
  });
});

describe('time formats', () => {
  it('prints and reads zone-less Oslo wall-clock time across DST', () => {
    const summer = new Date('2024-07-01T10:00:00Z');
    expect(formatZoneless(summer, 'Europe/Oslo')).toBe('2024-07-01 12:00:00');
    expect(formatWithOffset(summer, 'Europe/Oslo')).toBe('2024-07-01T12:00:00+02:00');
    expect(formatWithOffset(new Date('2024-01-01T10:00:00Z'), 'Europe/Oslo')).toBe('2024-01-01T11:00:00+01:00');
    expect(parseZoneless('2024-07-01 12:00:00', 'Europe/Oslo')?.toISOString()).toBe('2024-07-01T10:00:00.000Z');
    expect(parseZoneless('2024-03-31 03:30:00', 'Europe/Oslo')?.toISOString()).toBe('2024-03-31T01:30:00.000Z');
    expect(parseZoneless('2024-13-01', 'Europe/Oslo')).toBeNull();
  });
});

describe('rate limiter', () => {
  it('accepts `limit` requests per window and tells when the next one fits', () => {
    const l = createWindowLimiter({ limit: 5, windowMs: 1000 });
    for (let i = 0; i < 5; i++) expect(l.take('acct', 1000 + i).ok).toBe(true);
    const refused = l.take('acct', 1100);
    expect(refused).toEqual({ ok: false, retryAfterMs: 900 });
    expect(l.take('other', 1100).ok).toBe(true);
    expect(l.take('acct', 2000).ok).toBe(true);
  });
});

describe('simulator server', () => {
  let sim: SimServer | undefined;
  afterEach(async () => {
    await sim?.close();
  });

  const start = async (): Promise<string> => {
    sim = createSimServer({
      name: 'test',
      routes: [{ method: 'GET', path: '/items/:id', name: 'GET /items/:id', handle: (req) => jsonResponse(200, { id: req.params.id, pad: 'x'.repeat(100) }) }],
      truth: () => [{ external_id: '1' }],
      errorBody: (_status, message) => ({ error: message }),
    });
    return sim.listen(0);
  };

  it('routes, counts requests by endpoint, and serves the control API', async () => {
    const base = await start();
    const r = await fetch(`${base}/items/42`);
    expect(await r.json()).toMatchObject({ id: '42' });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect(await (await fetch(`${base}/__sim/truth`)).json()).toEqual([{ external_id: '1' }]);
    const counters = (await (await fetch(`${base}/__sim/counters`)).json()) as { requests_by_endpoint: Record<string, number> };
    expect(counters.requests_by_endpoint['GET /items/:id']).toBe(1);
    const index = (await (await fetch(`${base}/__sim`)).json()) as { routes: { path: string }[] };
    expect(index.routes.map((x) => x.path)).toContain('/__sim/faults');
  });

  it('injects 429 bursts with Retry-After in seconds and as an HTTP date, then recovers', async () => {
    const base = await start();
    await fetch(`${base}/__sim/faults`, { method: 'POST', body: JSON.stringify({ burst_429: 1, retry_after_seconds: 3 }) });
    const a = await fetch(`${base}/items/1`);
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('3');
    await fetch(`${base}/__sim/faults`, { method: 'POST', body: JSON.stringify({ burst_429: 1, retry_after_format: 'http-date' }) });
    const b = await fetch(`${base}/items/1`);
    expect(b.status).toBe(429);
    expect(Date.parse(b.headers.get('retry-after') ?? '')).toBeGreaterThan(Date.now());
    expect((await fetch(`${base}/items/1`)).status).toBe(200);
    const counters = (await (await fetch(`${base}/__sim/counters`)).json()) as { throttled_429: number };
    expect(counters.throttled_429).toBe(2);
  });

  it('injects 5xx, truncated JSON and connection resets; refuses unknown fault settings', async () => {
    const base = await start();
    const bad = await fetch(`${base}/__sim/faults`, { method: 'POST', body: JSON.stringify({ explode: 1 }) });
    expect(bad.status).toBe(400);
    await fetch(`${base}/__sim/faults`, { method: 'POST', body: JSON.stringify({ error_rate: 1, error_status: 502 }) });
    const e = await fetch(`${base}/items/1`);
    expect(e.status).toBe(502);
    expect(await e.json()).toEqual({ error: 'Simulated server error' });
    await fetch(`${base}/__sim/faults`, { method: 'POST', body: JSON.stringify({ error_rate: 0, truncate_rate: 1 }) });
    const t = await fetch(`${base}/items/1`);
    expect(t.status).toBe(200);
    await expect(t.json()).rejects.toThrow();
    await fetch(`${base}/__sim/faults`, { method: 'POST', body: JSON.stringify({ truncate_rate: 0, reset_rate: 1 }) });
    await expect(fetch(`${base}/items/1`)).rejects.toThrow();
    await fetch(`${base}/__sim/faults`, { method: 'DELETE' });
    expect((await fetch(`${base}/items/1`)).status).toBe(200);
  });
});
