import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { createProviderHttpClient } from './client.ts';
import { ALLOW_PRIVATE_EGRESS, createEgressGuard, EgressRefusedError, REFUSE_PRIVATE_EGRESS, type Resolve } from './egress.ts';

/** A resolver that never asks DNS: each name answers from the table, in turn when it lists several answers. */
function fakeResolver(table: Record<string, string[][]>): Resolve & { calls: string[] } {
  const calls: string[] = [];
  const resolve = ((name: string) => {
    calls.push(name);
    const answers = table[name];
    if (answers === undefined) return Promise.reject(Object.assign(new Error(`${name} not in the test table`), { code: 'ENOTFOUND' }));
    const answer = answers[Math.min(calls.filter((c) => c === name).length - 1, answers.length - 1)] ?? [];
    return Promise.resolve(answer.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) })));
  }) as unknown as Resolve & { calls: string[] };
  resolve.calls = calls;
  return resolve;
}

describe('finding 2: the egress guard refuses non-public addresses in every spelling', () => {
  const guard = createEgressGuard({ policy: REFUSE_PRIVATE_EGRESS, resolve: fakeResolver({}) });
  const hosts = [
    '127.0.0.1',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '[fd00::1]',
    '[fe80::1]',
    '0.0.0.0',
    '[::]',
    '224.0.0.1',
    '255.255.255.255',
    '2130706433',
    '0x7f000001',
    '0177.0.0.1',
    '[fd00:ec2::254]',
  ];
  for (const host of hosts) {
    it(`refuses ${host}`, async () => {
      await expect(guard.resolve(host)).rejects.toBeInstanceOf(EgressRefusedError);
    });
  }

  it('names the host it was asked for, never what it is as an address', async () => {
    const err = (await guard.resolve('2130706433').catch((e: unknown) => e)) as EgressRefusedError;
    expect(err.message).toContain('outbound.allow_private');
    expect(err.message).not.toContain('127.0.0.1');
  });

  it('refuses metadata.google.internal by name, without resolving it', async () => {
    const resolve = fakeResolver({ 'metadata.google.internal': [['8.8.8.8']] });
    const g = createEgressGuard({ policy: ALLOW_PRIVATE_EGRESS, resolve });
    await expect(g.resolve('metadata.google.internal')).rejects.toMatchObject({ metadata: true });
    await expect(g.resolve('METADATA.google.internal.')).rejects.toMatchObject({ metadata: true });
    expect(resolve.calls).toEqual([]);
  });

  it('refuses a name that resolves to a private address, and one with any private address among public ones', async () => {
    const g = createEgressGuard({ resolve: fakeResolver({ 'intranet.example': [['10.1.2.3']], 'mixed.example': [['93.184.216.34', '::1']] }) });
    await expect(g.resolve('intranet.example')).rejects.toBeInstanceOf(EgressRefusedError);
    await expect(g.resolve('mixed.example')).rejects.toBeInstanceOf(EgressRefusedError);
  });

  it('lets public unicast addresses and names through', async () => {
    const g = createEgressGuard({ resolve: fakeResolver({ 'api.example': [['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']] }) });
    await expect(g.resolve('93.184.216.34')).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
    await expect(g.resolve('api.example')).resolves.toHaveLength(2);
  });

  it('allow_private lets private and loopback addresses through, but not metadata addresses', async () => {
    const g = createEgressGuard({ policy: ALLOW_PRIVATE_EGRESS, resolve: fakeResolver({}) });
    await expect(g.resolve('127.0.0.1')).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(g.resolve('[::1]')).resolves.toEqual([{ address: '::1', family: 6 }]);
    await expect(g.resolve('10.0.0.1')).resolves.toHaveLength(1);
    await expect(g.resolve('169.254.169.254')).rejects.toMatchObject({ metadata: true });
    await expect(g.resolve('[fd00:ec2::254]')).rejects.toMatchObject({ metadata: true });
  });

  it('an allowlisted CIDR passes, its neighbours do not; an allowlisted host name passes whatever it resolves to', async () => {
    const resolve = fakeResolver({ 'lms.intra.example': [['10.9.0.5']], 'other.intra.example': [['10.9.0.6']] });
    const g = createEgressGuard({ policy: { allowPrivate: false, allow: ['10.20.0.0/16', 'lms.intra.example', '169.254.169.254'] }, resolve });
    await expect(g.resolve('10.20.3.4')).resolves.toHaveLength(1);
    await expect(g.resolve('[::ffff:10.20.3.4]')).resolves.toHaveLength(1);
    await expect(g.resolve('10.21.0.1')).rejects.toBeInstanceOf(EgressRefusedError);
    await expect(g.resolve('lms.intra.example')).resolves.toEqual([{ address: '10.9.0.5', family: 4 }]);
    await expect(g.resolve('other.intra.example')).rejects.toBeInstanceOf(EgressRefusedError);
    await expect(g.resolve('169.254.169.254')).resolves.toHaveLength(1);
  });

  it('the lookup hands the socket exactly the addresses it checked (one resolution per connection)', async () => {
    const resolve = fakeResolver({ 'rebind.example': [['93.184.216.34'], ['127.0.0.1']] });
    const g = createEgressGuard({ resolve });
    const first = await new Promise<unknown>((done) => g.lookup('rebind.example', { all: true }, (err, addresses) => done(err ?? addresses)));
    expect(first).toEqual([{ address: '93.184.216.34', family: 4 }]);
    // The second resolution rebinds to loopback: that answer is checked too, and refused.
    const second = await new Promise<unknown>((done) => g.lookup('rebind.example', { family: 4 }, (err, address) => done(err ?? address)));
    expect(second).toBeInstanceOf(EgressRefusedError);
    expect(resolve.calls).toEqual(['rebind.example', 'rebind.example']);
  });
});

describe('finding 2: the HTTP client connects only where the egress policy allows', () => {
  let server: Server | undefined;
  let connections = 0;
  let requests = 0;
  let authorizations: (string | undefined)[] = [];

  afterEach(async () => {
    await new Promise<void>((done) => (server === undefined ? done() : server.close(() => done())));
    server = undefined;
  });

  async function listen(): Promise<number> {
    connections = 0;
    requests = 0;
    authorizations = [];
    server = createServer((req, res) => {
      requests++;
      authorizations.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', () => done()));
    return (server.address() as AddressInfo).port;
  }

  it('a loopback listener receives nothing when the policy refuses, in any spelling of its address', async () => {
    const port = await listen();
    const http = createProviderHttpClient({ retry: { maxAttempts: 3, baseDelayMs: 1 }, resolve: fakeResolver({ 'sneaky.example': [['127.0.0.1']], localhost: [['127.0.0.1', '::1']] }) });
    try {
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '2130706433', '0x7f000001', '0177.0.0.1', 'sneaky.example', 'localhost']) {
        const err = await http.request({ method: 'GET', url: `http://${host}:${port}/v1/things`, endpoint: 'GET /v1/things' }).catch((e: unknown) => e);
        expect(err, host).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('provider_error');
        const message = (err as AppError).message;
        expect(message).toMatch(/^GET \/v1\/things: certhub's egress policy refused the connection: the address is private/);
        expect(message).toContain('outbound.allow_private');
        expect(message).not.toContain('127.0.0.1');
        expect(message).not.toContain(String(port));
      }
      expect(http.stats().retries).toBe(0);
    } finally {
      await http.close();
    }
    expect(connections).toBe(0);
    expect(requests).toBe(0);
  });

  it('allow_private reaches the listener; so does an allowlisted CIDR', async () => {
    const port = await listen();
    for (const egress of [ALLOW_PRIVATE_EGRESS, { allowPrivate: false, allow: ['127.0.0.0/8'] }]) {
      const http = createProviderHttpClient({ egress });
      try {
        const res = await http.request({ method: 'GET', url: `http://127.0.0.1:${port}/`, endpoint: 'GET /' });
        expect(res.data).toEqual({ ok: true });
      } finally {
        await http.close();
      }
    }
    expect(requests).toBe(2);
  });

  it('rebind: the connection uses the address the check passed, not a later answer', async () => {
    const port = await listen();
    // First answer loopback (allowlisted here), every later answer a private address that is not: a client that
    // resolved again after checking would connect to 10.0.0.1 (or fail); the pinned one reaches the listener.
    const resolve = fakeResolver({ 'rebind.example': [['127.0.0.1'], ['10.0.0.1']] });
    const http = createProviderHttpClient({ egress: { allowPrivate: false, allow: ['127.0.0.1/32'] }, resolve });
    try {
      const res = await http.request({ method: 'GET', url: `http://rebind.example:${port}/`, endpoint: 'GET /' });
      expect(res.data).toEqual({ ok: true });
      expect(resolve.calls).toEqual(['rebind.example']);
    } finally {
      await http.close();
    }
    // And the reverse: first answer refused, later ones would pass. Nothing is connected.
    const reverse = fakeResolver({ 'rebind.example': [['10.0.0.1'], ['127.0.0.1']] });
    const refusing = createProviderHttpClient({ egress: { allowPrivate: false, allow: ['127.0.0.1/32'] }, resolve: reverse, retry: { maxAttempts: 1 } });
    try {
      await expect(refusing.request({ method: 'GET', url: `http://rebind.example:${port}/`, endpoint: 'GET /' })).rejects.toMatchObject({ code: 'provider_error' });
    } finally {
      await refusing.close();
    }
    expect(requests).toBe(1);
  });

  it('finding 3: user:password@ in a link (a provider\'s file link, say) is a credential and is not sent', async () => {
    const port = await listen();
    const http = createProviderHttpClient({ egress: ALLOW_PRIVATE_EGRESS });
    try {
      await http.request({ method: 'GET', url: `http://admin:hunter2@127.0.0.1:${port}/file.pdf`, endpoint: 'GET file link' });
    } finally {
      await http.close();
    }
    expect(authorizations).toEqual([undefined]);
  });
});
