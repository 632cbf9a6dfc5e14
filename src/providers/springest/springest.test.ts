import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { makeCertificatePdf } from '../../simulators/common/pdf.ts';
import { generateWorld } from '../../simulators/common/world.ts';
import { createSpringestSimulator, type SpringestSimulator } from '../../simulators/springest/index.ts';
import { ALLOW_PRIVATE_EGRESS, createProviderHttpClient, type ProviderHttpClient } from '../http/index.ts';
import { createdFrom, createPostLimiter, listCertificates, listCertifications, postCertificate, toCertificate, toCertificationAchievement, toStatus } from './index.ts';
import { certificatesResponseSchema, certificationsResponseSchema } from './schema.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

describe('Springest normalize (recorded payloads)', () => {
  it('maps recorded certificates field for field to what the simulator says they are', () => {
    const certs = certificatesResponseSchema.parse(fixture('certificates.json'));
    const normalized = certs.map(toCertificate).map(({ raw: _raw, ...c }) => c);
    expect(normalized).toEqual(fixture('certificates.truth.json'));
  });

  it('keeps the raw payload, accepts a bare array, and maps statuses', () => {
    const certs = certificatesResponseSchema.parse((fixture('certificates.json') as { certificates: unknown[] }).certificates);
    expect(toCertificate(certs[0] as never).raw).toEqual(certs[0]);
    expect([toStatus('approved'), toStatus('Revoked'), toStatus('pending_review'), toStatus(null)]).toEqual(['awarded', 'revoked', 'pending', 'awarded']);
  });

  it('reads the certification catalog with requires_valid_until', () => {
    const catalog = certificationsResponseSchema.parse(fixture('certifications.json')).map(toCertificationAchievement);
    expect(catalog.length).toBeGreaterThan(5);
    expect(catalog.some((c) => c.extra?.requires_valid_until === true)).toBe(true);
    expect(catalog.every((c) => c.type === 'certification' && c.title !== null)).toBe(true);
  });

  it('created_from is one day before the newest certificate seen (the filter is an inclusive date)', () => {
    expect(createdFrom('2026-03-01T00:30:00.000Z')).toBe('2026-02-28');
  });
});

describe('Springest client against the simulator', () => {
  let sim: SpringestSimulator;
  let http: ProviderHttpClient;
  afterEach(async () => {
    await http.close();
    await sim.sim.close();
  });
  const start = async (): Promise<string> => {
    sim = createSpringestSimulator({ world: generateWorld({ seed: 'sp-client', people: 60, asOf: '2026-06-01' }) });
    http = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    return sim.sim.listen(0);
  };

  it('pushes a raw PDF as multipart; it stays invisible until its certification is verified', async () => {
    const url = await start();
    const account = { base_url: url, api_key: sim.host.apiKey };
    const unverified = sim.host.certifications.find((c) => !c.verified && c.requires_valid_until);
    const pdf = makeCertificatePdf(['Certificate', 'Åse Ødegård']);
    const { id } = await postCertificate(http, account, { certification_id: unverified?.id ?? 0, email: 'ase@example.com', valid_from: '2026-05-01', valid_until: '2030-05-01', pdf }, createPostLimiter());
    expect(await listCertificates(http, account, { email: 'ase@example.com' })).toEqual([]);
    await fetch(`${url}/__sim/certifications/${unverified?.id}/verify`, { method: 'POST' });
    expect((await listCertificates(http, account, { email: 'ase@example.com' })).map((c) => String(c.id))).toEqual([id]);
    const posted = (await (await fetch(`${url}/__sim/posted`)).json()) as { id: number; file: { bytes: number } }[];
    expect(posted.find((p) => String(p.id) === id)?.file.bytes).toBe(pdf.length);
  });

  it('a refused push is a provider_error naming the problem, never retried, and the api_key appears nowhere', async () => {
    const url = await start();
    const vca = sim.host.certifications.find((c) => c.requires_valid_until && c.verified);
    const err = await postCertificate(http, { base_url: url, api_key: sim.host.apiKey }, { certification_id: vca?.id ?? 0, email: 'x@example.com', valid_from: '2026-05-01', pdf: makeCertificatePdf(['x']) }, createPostLimiter()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('provider_error');
    const dumped = JSON.stringify({ m: (err as Error).message, d: (err as AppError).details, s: (err as Error).stack });
    expect(dumped).toContain('valid_until is required');
    expect(dumped).not.toContain(sim.host.apiKey);
    expect(sim.sim.counters.snapshot().requests_by_endpoint['POST /users/certificates']).toBe(1);
  });
});

describe('Springest paths carry the .json extension (issue 14: the API picks the format by extension; public clients call <path>.json?api_key=)', () => {
  let server: Server;
  let http: ProviderHttpClient;
  afterEach(async () => {
    await http.close();
    await new Promise((done) => server.close(done));
  });

  it('GET /users/certificates.json, GET /certifications.json, POST /users/certificates.json, api_key in the query', async () => {
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        const path = (req.url ?? '').split('?')[0];
        if (req.method === 'POST') {
          res.statusCode = 201;
          res.end(JSON.stringify({ certificate: { id: 7, certification_id: 4001, valid_from: '2026-05-01', valid_until: null, status: 'approved', user: { email: 'a@example.com', external_id: null } } }));
        } else res.end(JSON.stringify(path === '/certifications.json' ? { certifications: [] } : { certificates: [] }));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    http = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    const account = { base_url: `${base}/`, api_key: 'k-cert', certifications_api_key: 'k-catalog' };

    expect(await listCertificates(http, account, { created_from: '2026-05-01' })).toEqual([]);
    expect(await listCertifications(http, account)).toEqual([]);
    const { id } = await postCertificate(http, account, { certification_id: 4001, email: 'a@example.com', valid_from: '2026-05-01', pdf: makeCertificatePdf(['x']) }, createPostLimiter());
    expect(id).toBe('7');
    expect(seen).toEqual(['GET /users/certificates.json?api_key=k-cert&created_from=2026-05-01', 'GET /certifications.json?api_key=k-catalog', 'POST /users/certificates.json?api_key=k-cert']);
  });
});
