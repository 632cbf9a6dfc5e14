import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

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

  it('respects the level', () => {
    const out = capture();
    const logger = createLogger('warn', out.stream);
    logger.info('hidden');
    logger.warn('shown');
    expect(out.lines()).toHaveLength(1);
  });
});
