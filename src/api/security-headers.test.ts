/** Finding 11 of issue 13: the Content-Security-Policy of each kind of answer, over real HTTP. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleCertificate } from '../store/sample-certificate.testkit.ts';
import { createTestHub, type TestHub } from './app.testkit.ts';
import { DATA_CSP, DOCS_CSP, PAGE_CSP } from './security-headers.ts';

describe('finding 11: security headers', () => {
  let hub: TestHub;
  let url: string;
  let pdfId: string;
  beforeAll(async () => {
    const webRoot = mkdtempSync(join(tmpdir(), 'certhub-web-'));
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>x</title><script type="module" src="/assets/a.js"></script>');
    hub = await createTestHub({ webRoot });
    await hub.seed(hub.a.source, [sampleCertificate(1)]);
    const cert = (await hub.store.certificates.getCertificateByExternalId(hub.a.id, hub.a.source.id, 'ext-1'))!;
    const sha = await hub.store.files.putBlob(Buffer.from('%PDF-1.4 test'), 'application/pdf');
    await hub.store.files.setCertificateFile(hub.a.id, cert.id, sha);
    pdfId = cert.id;
    url = await hub.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => hub.close());

  const get = (path: string, key?: string) => fetch(`${url}${path}`, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });

  it('finding 11: the web UI and /docs carry a strict CSP without unsafe-inline', async () => {
    for (const [path, csp] of [['/', PAGE_CSP], ['/people/123', PAGE_CSP], ['/docs', DOCS_CSP]] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      const header = res.headers.get('content-security-policy') ?? '';
      expect(header, path).toBe(csp);
      for (const d of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
        expect(header, path).toContain(d);
      }
      expect(header, path).not.toContain('unsafe-inline');
      expect(header, path).not.toContain('unsafe-eval');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
    }
  });

  it('finding 11: JSON, errors and PDFs carry a CSP that allows nothing and sandboxes them', async () => {
    const answers = [
      await get('/v1/certificates', hub.a.readKey),
      await get('/v1/certificates'),
      await get('/openapi.json'),
      await get('/healthz'),
      await get(`/v1/certificates/${pdfId}/file`, hub.a.readKey),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 200, 200, 200]);
    expect(answers[4]!.headers.get('content-type')).toBe('application/pdf');
    for (const res of answers) {
      expect(res.headers.get('content-security-policy'), res.url).toBe(DATA_CSP);
      expect(res.headers.get('content-security-policy'), res.url).toMatch(/default-src 'none'; sandbox/);
    }
  });
});
