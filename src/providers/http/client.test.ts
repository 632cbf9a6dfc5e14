import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { createProviderHttpClient, type HttpLogger, type ProviderHttpClient, type ProviderHttpClientOptions } from './client.ts';
import { ALLOW_PRIVATE_EGRESS } from './egress.ts';
import type { Limiter } from './limiter.ts';

const SECRET = 'springest-key-8f3a9c1d77e2';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/**
 * A bare node:http server answering each request with the next scripted step, then `ok`.
 * Steps: `ok`, `<status>`, `429:<retry-after>`, `reset`, `truncate`, `stall-body`, `chunked-big`, `echo`, `echo-secret`.
 */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
async function scripted(steps: string[]): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(entry);
      const step = steps.shift() ?? 'ok';
      const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (step === 'ok') return json(200, { ok: true });
      if (step === 'reset') return void req.socket.destroy();
      if (step === 'truncate') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"ok": tr');
      }
      if (step === 'stall-body') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.write('{"ok":');
      }
      if (step === 'chunked-big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 5; i++) res.write(Buffer.alloc(1000, 65));
        return void res.end();
      }
      if (step === 'echo') return json(200, entry);
      if (step === 'echo-secret') return json(401, { error: 'Wrong API Key', got: req.url, auth: req.headers.authorization });
      if (step.startsWith('429:')) {
        // `429:<Retry-After>` or `429:<Retry-After>|<Date>` (a server clock of its own).
        const [retryAfter = '', date] = step.slice(4).split('|');
        return json(429, { error: 'Too Many Requests' }, { 'retry-after': retryAfter, ...(date === undefined ? {} : { date }) });
      }
      return json(Number(step), { error: `status ${step}` });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function client(opts: ProviderHttpClientOptions = {}): ProviderHttpClient {
  const c = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, secrets: [SECRET], ...opts, retry: { baseDelayMs: 5, maxDelayMs: 50, ...opts.retry } });
  cleanups.push(() => c.close());
  return c;
}

/** Everything an error could leak through: message, stack, details, code, cause chain, aggregate members. */
function dumpError(err: unknown, depth = 0): string {
  if (depth > 8) return '';
  if (!(err instanceof Error)) return JSON.stringify(err) ?? String(err);
  const e = err as Error & { details?: unknown; code?: unknown; errors?: unknown[] };
  return [JSON.stringify(e), JSON.stringify({ name: e.name, message: e.message, stack: e.stack, details: e.details, code: e.code }), dumpError(e.cause, depth + 1), ...(e.errors ?? []).map((x) => dumpError(x, depth + 1))].join('\n');
}

const get = (c: ProviderHttpClient, url: string, extra: Partial<Parameters<ProviderHttpClient['request']>[0]> = {}): Promise<unknown> =>
  c.request({ method: 'GET', url, endpoint: 'GET /thing', ...extra }).catch((e: unknown) => e);

describe('retries', () => {
  it('gets through 5xx, a connection reset and a truncated JSON body, and counts every attempt', async () => {
    const { base, seen } = await scripted(['500', '502', 'reset', 'truncate', '504']);
    const c = client();
    const res = await c.request<{ ok: boolean }>({ method: 'GET', url: `${base}/thing`, endpoint: 'GET /thing' });
    expect(res).toMatchObject({ status: 200, data: { ok: true } });
    expect(seen).toHaveLength(6);
    const stats = c.stats();
    expect(stats).toMatchObject({ requests: 6, retries: 5, throttled_429: 0, requests_by_endpoint: { 'GET /thing': 6 } });
    expect(stats.responses_by_status).toEqual({ '500': 1, '502': 1, '504': 1, '200': 2 });
    expect(stats.bytes).toBeGreaterThan(0);
    c.resetStats();
    expect(c.stats()).toEqual({ requests: 0, requests_by_endpoint: {}, responses_by_status: {}, throttled_429: 0, retries: 0, bytes: 0 });
  });

  it('waits with exponential backoff and full jitter, capped by maxDelayMs, re-acquiring the limiter each time', async () => {
    const { base } = await scripted(['503', '503', '503', '503', '503']);
    const slept: number[] = [];
    let acquired = 0;
    const limiter: Limiter = { acquire: () => Promise.resolve(void (acquired += 1)) };
    const c = client({ limiter, random: () => 0.5, sleep: (ms) => Promise.resolve(void slept.push(ms)), retry: { baseDelayMs: 100, maxDelayMs: 500 } });
    await c.request({ method: 'GET', url: `${base}/thing`, endpoint: 'GET /thing' });
    expect(slept).toEqual([50, 100, 200, 250, 250]);
    expect(acquired).toBe(6);
  });

  it('waits what Retry-After asks even beyond maxDelayMs, in seconds or as an HTTP date, and pauses the account', async () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const { base } = await scripted(['429:7', `429:${new Date(now + 3000).toUTCString()}|${new Date(now).toUTCString()}`, '503']);
    const slept: number[] = [];
    const paused: number[] = [];
    const limiter: Limiter = { acquire: () => Promise.resolve(), pause: (ms) => void paused.push(ms) };
    const c = client({ limiter, now: () => now, random: () => 0, sleep: (ms) => Promise.resolve(void slept.push(ms)) });
    await c.request({ method: 'GET', url: `${base}/thing`, endpoint: 'GET /thing' });
    expect(slept).toEqual([7000, 3000, 0]);
    expect(paused).toEqual([7000, 3000]);
    expect(c.stats().throttled_429).toBe(2);
  });

  it('exhausted retries: provider_unavailable naming the endpoint, the attempts and the last reason', async () => {
    const { base } = await scripted(['503', 'reset', 'reset']);
    const err = await get(client({ retry: { maxAttempts: 3 } }), `${base}/thing`);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('provider_unavailable');
    expect((err as AppError).message).toMatch(/^GET \/thing failed after 3 attempts: (UND_ERR_SOCKET|ECONNRESET)/);
    expect((err as AppError).details).toMatchObject({ endpoint: 'GET /thing', attempts: 3 });
  });

  it('finding 3: does not retry a non-retryable 4xx; the message names the endpoint and status only, the provider answer (redacted) stays in details', async () => {
    const { base, seen } = await scripted(['echo-secret']);
    const err = await get(client(), `${base}/thing?api_key=${SECRET}&email=a@b.no`, { headers: { Authorization: `Basic ${SECRET}` } });
    expect(seen).toHaveLength(1);
    expect((err as AppError).code).toBe('provider_error');
    expect((err as AppError).message).toBe('GET /thing returned HTTP 401');
    expect((err as AppError).details).toMatchObject({ status: 401, endpoint: 'GET /thing' });
    const body = ((err as AppError).details as { body: string }).body;
    expect(body).toContain('api_key=***');
    expect(dumpError(err)).not.toContain(SECRET);
  });

  it('a non-idempotent call is retried after a 429 but not after a 5xx (the provider may have acted)', async () => {
    const { base, seen } = await scripted(['429:0', '503']);
    const c = client();
    const err = await c.request({ method: 'POST', url: `${base}/certs`, endpoint: 'POST /certs', json: { a: 1 }, idempotent: false }).catch((e: unknown) => e);
    expect(seen).toHaveLength(2);
    expect((err as AppError).code).toBe('provider_unavailable');
    expect((err as AppError).message).toMatch(/^POST \/certs returned HTTP 503/);
  });

  it('stops at once when the caller aborts, also while waiting to retry', async () => {
    const { base, seen } = await scripted(['503', '503', '503']);
    const ctl = new AbortController();
    // The retry waits two minutes: an abort that did not cut the wait short would take that long (only a hang
    // would break the bound below, not a loaded machine).
    const c = client({ retry: { baseDelayMs: 120_000, maxDelayMs: 120_000 }, random: () => 1 });
    const t0 = performance.now();
    setTimeout(() => ctl.abort(), 100);
    const err = await get(c, `${base}/thing`, { signal: ctl.signal });
    expect((err as Error).name).toBe('AbortError');
    expect(performance.now() - t0).toBeLessThan(60_000);
    expect(seen).toHaveLength(1);
  }, 90_000);
});

describe('requests and responses', () => {
  it('sends query, JSON, form and multipart bodies; reads JSON, text and bytes; accepts expected statuses', async () => {
    const { base } = await scripted(['echo', 'echo', 'echo', 'echo', '404']);
    const c = client();
    const q = await c.request<Seen>({ method: 'GET', url: `${base}/list?x=1`, endpoint: 'GET /list', query: { status: 'awarded', id: [1, 2], skip: undefined, none: null } });
    expect(q.data.url).toBe('/list?x=1&status=awarded&id=1&id=2');
    expect(q.data.headers.accept).toBe('application/json');
    const j = await c.request<Seen>({ method: 'PATCH', url: `${base}/c/1`, endpoint: 'PATCH /c/:id', json: { status: 'revoked' } });
    expect(j.data).toMatchObject({ method: 'PATCH', body: '{"status":"revoked"}', headers: { 'content-type': 'application/json' } });
    const f = await c.request<string>({ method: 'POST', url: `${base}/token`, endpoint: 'POST /token', form: { grant_type: 'client_credentials', client_secret: 's e' }, parse: 'text' });
    expect(JSON.parse(f.data)).toMatchObject({ body: 'grant_type=client_credentials&client_secret=s+e', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const form = new FormData();
    form.set('email', 'kari@acme.no');
    form.set('file', new Blob([Buffer.from('%PDF-1.4')], { type: 'application/pdf' }), 'cert.pdf');
    const m = await c.request<Buffer>({ method: 'POST', url: `${base}/up`, endpoint: 'POST /up', body: form, parse: 'buffer' });
    const echoed = JSON.parse(m.data.toString('utf8')) as Seen;
    expect(echoed.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(echoed.body).toContain('%PDF-1.4');
    expect(echoed.body).toContain('filename="cert.pdf"');
    const missing = await c.request<{ error: string }>({ method: 'GET', url: `${base}/c/9`, endpoint: 'GET /c/:id', expectStatus: [200, 404] });
    expect(missing).toMatchObject({ status: 404, data: { error: 'status 404' } });
    expect(missing.headers['content-type']).toBe('application/json');
  });

  it('times out a body that stops arriving, and retries it', async () => {
    const { base, seen } = await scripted(['stall-body', 'stall-body']);
    const err = await get(client({ timeouts: { bodyMs: 100 }, retry: { maxAttempts: 2 } }), `${base}/thing`);
    expect(seen).toHaveLength(2);
    expect((err as AppError).code).toBe('provider_unavailable');
    expect((err as AppError).message).toMatch(/failed after 2 attempts: body: UND_ERR_BODY_TIMEOUT/);
  });

  it('caps responses without a Content-Length too, also when streamed', async () => {
    const { base } = await scripted(['chunked-big', 'chunked-big', 'chunked-big']);
    const c = client({ maxResponseBytes: 3000 });
    const err = await get(c, `${base}/file`, { endpoint: 'GET /file', parse: 'buffer' });
    expect((err as AppError).message).toBe('response from GET /file exceeds 3000 bytes');
    const res = await c.request<Readable>({ method: 'GET', url: `${base}/file`, endpoint: 'GET /file', parse: 'stream' });
    const read = async (): Promise<number> => {
      let n = 0;
      for await (const chunk of res.data) n += (chunk as Buffer).length;
      return n;
    };
    await expect(read()).rejects.toThrow('response from GET /file exceeds 3000 bytes');
    const ok = await client({ maxResponseBytes: 10_000 }).request<Readable>({ method: 'GET', url: `${base}/file`, endpoint: 'GET /file', parse: 'stream' });
    const chunks: Buffer[] = [];
    for await (const chunk of ok.data) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).length).toBe(5000);
  });
});

describe('secrets', () => {
  it('never appear in errors from unreachable hosts, in their cause chains, or in log lines', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const lines: unknown[] = [];
    const logger: HttpLogger = { debug: (o, m) => void lines.push([o, m]), warn: (o, m) => void lines.push([o, m]) };
    const c = client({ logger, retry: { maxAttempts: 2 } });
    const err = await get(c, `http://127.0.0.1:${port}/users/certificates?api_key=${SECRET}`, { headers: { 'X-API-Key': 'header-only-secret-123' } });
    expect((err as AppError).code).toBe('provider_unavailable');
    expect((err as AppError).message).toMatch(/failed after 2 attempts: ECONNREFUSED/);
    expect((err as Error).cause).toBeInstanceOf(Error);
    const dumped = dumpError(err);
    expect(dumped).not.toContain(SECRET);
    expect(dumped).not.toContain('header-only-secret-123');
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it('are redacted from logged URLs and from errors of a key the client was not told about', async () => {
    const { base } = await scripted(['reset', 'echo-secret']);
    const lines: unknown[] = [];
    const logger: HttpLogger = { debug: (o) => void lines.push(o), warn: (o) => void lines.push(o) };
    const c = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS, logger, retry: { baseDelayMs: 1 } });
    cleanups.push(() => c.close());
    const err = await get(c, `${base}/u?token=tok-abcdef-123&page=2`, { headers: { Authorization: 'JWT jwt-abcdef-456' } });
    const all = dumpError(err) + JSON.stringify(lines);
    expect(all).not.toContain('tok-abcdef-123');
    expect(all).not.toContain('jwt-abcdef-456');
    expect(JSON.stringify(lines)).toContain('token=***&page=2');
    c.addSecrets('learned-later-789');
    expect(c.redact('x learned-later-789 y')).toBe('x *** y');
  });

  it('accepts a pino logger', () => {
    const logger: HttpLogger = pino({ level: 'silent' });
    expect(typeof logger.debug).toBe('function');
  });
});
