import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { createLogger, loggedUrl } from './logger.ts';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

describe('createLogger', () => {
  it('redacts secrets by key at the top level and nested', () => {
    const out = capture();
    const logger = createLogger('info', out.stream);
    logger.info({ api_key: 'k1', source: { token: 'k2', oauth: { client_secret: 'k3' } } }, 'configured');
    logger.info({ req: { headers: { authorization: 'JWT k4', 'x-api-key': 'k5' } } }, 'request');
    logger.info({ subject: { national_identification_number: '01019012138' }, password: 'k6' }, 'subject');
    const text = out.lines().join('\n');
    for (const secret of ['k1', 'k2', 'k3', 'k4', 'k5', '01019012138', 'k6']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
    expect(text).toContain('configured');
  });

  it('finding 5: logs a request by its path and the names of its query parameters, never their values (people search by national id)', async () => {
    const out = capture();
    const app = Fastify({ loggerInstance: createLogger('info', out.stream) });
    app.get('/v1/people', () => ({ items: [] }));
    await app.inject({ method: 'GET', url: '/v1/people?q=01019012138&limit=5' });
    await app.close();
    const text = out.lines().join('\n');
    expect(text).toContain('"url":"/v1/people?q=***&limit=***"');
    expect(text).not.toContain('01019012138');
    expect(loggedUrl('/v1/certificates')).toBe('/v1/certificates');
    expect(loggedUrl('/v1/people?q=kari.nordmann%40example.com')).toBe('/v1/people?q=***');
  });

  it('respects the level', () => {
    const out = capture();
    const logger = createLogger('warn', out.stream);
    logger.info('hidden');
    logger.warn('shown');
    expect(out.lines()).toHaveLength(1);
  });
});
