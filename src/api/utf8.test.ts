/** Finding 19 of issue 13: request text that is not UTF-8 is refused over real HTTP, not read as U+FFFD. */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from './app.testkit.ts';
import { queryIsUtf8 } from './utf8.ts';

/** Sends raw bytes and reads the whole answer (the server closes or the body is complete). */
function rawRequest(port: number, head: string, body: Buffer = Buffer.alloc(0)): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (split >= 0 && length !== null && Buffer.concat(chunks).length >= split + 4 + Number(length[1])) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}

describe('finding 19: invalid UTF-8 in requests', () => {
  let hub: TestHub;
  let port: number;
  beforeAll(async () => {
    hub = await createTestHub();
    await hub.app.listen({ host: '127.0.0.1', port: 0 });
    port = (hub.app.server.address() as AddressInfo).port;
  });
  afterAll(() => hub.close());

  const post = (body: Buffer) =>
    rawRequest(
      port,
      `POST /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${hub.a.readKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      body,
    );

  it('finding 19: a JSON body with the bytes 0xC3 0x28 is a 400 invalid_request saying the body is not UTF-8', async () => {
    const body = Buffer.concat([Buffer.from('{"person":{"email":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('@example.com"}}')]);
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'invalid_request', message: expect.stringMatching(/body.*not valid UTF-8/) } });
  });

  it('finding 19: the same body in valid UTF-8 is answered as usual', async () => {
    const res = await post(Buffer.from('{"person":{"email":"\u00e5@example.com"}}', 'utf8'));
    expect(res.status).toBe(200);
  });

  it('finding 19: a query string escaping 0xC3 0x28 is a 400 invalid_request saying the query is not UTF-8; sent raw, Node refuses the line', async () => {
    const escaped = await rawRequest(port, `GET /v1/people?q=%C3%28 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${hub.a.readKey}\r\nConnection: close\r\n\r\n`);
    expect(escaped.status).toBe(400);
    expect(JSON.parse(escaped.body)).toEqual({ error: { code: 'invalid_request', message: expect.stringMatching(/query.*not valid UTF-8/) } });
    const raw = Buffer.from([0xc3, 0x28]).toString('latin1');
    const unescaped = await rawRequest(port, `GET /v1/people?q=${raw} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${hub.a.readKey}\r\nConnection: close\r\n\r\n`);
    expect(unescaped.status).toBe(400);
    expect(JSON.parse(unescaped.body).error.code).toBe('invalid_request');
    const ok = await rawRequest(port, `GET /v1/people?q=%C3%A5 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${hub.a.readKey}\r\nConnection: close\r\n\r\n`);
    expect(ok.status).toBe(200);
  });

  it('finding 19: the query check reads escapes and raw bytes alike', () => {
    expect(queryIsUtf8('/x?q=%E2%82%AC&b=%41')).toBe(true);
    expect(queryIsUtf8('/x?q=%E2%82')).toBe(false);
    expect(queryIsUtf8('/x?q=%FF')).toBe(false);
    expect(queryIsUtf8('/x?q=100%')).toBe(true);
    expect(queryIsUtf8('/x')).toBe(true);
  });
});
