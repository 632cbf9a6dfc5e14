import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { createApp } from './app.ts';

const healthyStore = { ping: () => Promise.resolve() };
const downStore = {
  ping: () => Promise.reject(new AppError('database_unavailable', 'cannot connect to PostgreSQL at db:5432/certhub: ECONNREFUSED')),
};

describe('createApp', () => {
  it('answers /healthz without touching the store', async () => {
    const app = createApp({ store: downStore });
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('is ready when the store answers', async () => {
    const app = createApp({ store: healthyStore });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('is not ready, with a 503 and the reason, when the store does not answer', async () => {
    const app = createApp({ store: downStore });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: { code: 'database_unavailable', message: 'cannot connect to PostgreSQL at db:5432/certhub: ECONNREFUSED' },
    });
  });

  it('answers unknown routes with a 404 in the error shape', async () => {
    const app = createApp({ store: healthyStore });
    const res = await app.inject({ method: 'POST', url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'no route for POST /nope?x=1' } });
  });

  it('builds independent apps (no module-level state)', async () => {
    const a = createApp({ store: healthyStore });
    const b = createApp({ store: downStore });
    expect((await a.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await b.inject({ url: '/readyz' })).statusCode).toBe(503);
  });
});
