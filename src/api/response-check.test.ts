/**
 * The test kit holds every answer to what its route declares: an answer that does not match fails the test that met
 * it, naming the route, the status and what is wrong; an answer that matches passes untouched.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { SyncRun } from '../store/index.ts';
import { createTestHub, type TestHub } from './app.testkit.ts';
import type { SyncLauncher } from './deps.ts';
import { answerProblems, createResponseCheck, type ResponseCheck } from './response-check.testkit.ts';
import { createRouteTable, mountRoutes, type RegisteredRoute } from './route.ts';

/** A launcher that records a run as `started_at` says, without syncing anything. */
function launcherStartingAt(startedAt: unknown): SyncLauncher {
  return {
    start: (sourceId) =>
      Promise.resolve({ id: 'run-1', source_id: sourceId, status: 'running', started_at: startedAt, finished_at: null, report: null, error: null } as SyncRun),
  };
}

describe('the test kit checks answers against their route (real routes)', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('fails a call whose handler answers a field of the wrong type, naming the route, the status and the field', async () => {
    // started_at goes out as the launcher gave it: a number here, where the route declares a string.
    hub = await createTestHub({ sync: launcherStartingAt(1_700_000_000_000) });
    const call = hub.call('POST', '/v1/sources/frontcore-main/sync', { key: hub.a.adminKey });
    await expect(call).rejects.toThrow('POST /v1/sources/frontcore-main/sync matched POST /v1/sources/:id/sync (syncSource) and answered 202');
    await expect(hub.call('POST', '/v1/sources/frontcore-main/sync', { key: hub.a.adminKey })).rejects.toThrow(
      /started_at: Invalid input: expected string, received number/,
    );
  });

  it('passes the same route when the answer is what it declares, and checks error answers and unknown URLs', async () => {
    hub = await createTestHub({ sync: launcherStartingAt('2025-01-01T00:00:00.000Z') });
    const res = await hub.call('POST', '/v1/sources/frontcore-main/sync', { key: hub.a.adminKey });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ run_id: 'run-1', source: 'frontcore-main', status: 'running', started_at: '2025-01-01T00:00:00.000Z' });
    expect((await hub.call('GET', '/v1/sources/nope', { key: hub.a.readKey })).statusCode).toBe(404);
    expect((await hub.call('GET', '/v1/no-such-route', { key: hub.a.readKey })).statusCode).toBe(404);
    // An answer of app.inject called directly goes through the same check on request.
    hub.checkAnswer(await hub.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${hub.a.readKey}` } }));
  });
});

describe('the test kit checks answers against their route (deliberately wrong handlers)', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const thing = z.object({ id: z.string(), count: z.number(), note: z.string().nullable().optional() });

  /**
   * An app with one route, GET /things/:kind, declaring 200 with `thing` and 404; the handler answers whatever
   * `answers[kind]` says. It sends them with reply.send(), which the handler types cannot see into (CSV and files
   * go that way): the kit's check is what stands between such an answer and the clients.
   */
  function appAnswering(answers: Record<string, { status: number; body: unknown; type?: string }>): { app: FastifyInstance; check: ResponseCheck } {
    const table = createRouteTable();
    table.add({
      method: 'GET',
      url: '/things/:kind',
      operationId: 'getThing',
      summary: 'A thing',
      tag: 'test',
      access: 'public',
      params: z.object({ kind: z.string() }),
      errors: [404],
      responses: { 200: { description: 'The thing', schema: thing } },
      handler({ params, reply }) {
        const answer = answers[params.kind]!;
        void reply.code(answer.status);
        if (answer.type !== undefined) void reply.type(answer.type);
        return reply.send(answer.body);
      },
    });
    const built = Fastify();
    mountRoutes(built, table, { authenticate: () => Promise.reject(new Error('public routes only')) });
    const check = createResponseCheck(built);
    app = built;
    return { app: built, check };
  }

  async function problemsOf(kind: string, answers: Record<string, { status: number; body: unknown; type?: string }>): Promise<string | null> {
    const { app: built, check } = appAnswering(answers);
    const res = await built.inject({ method: 'GET', url: `/things/${kind}` });
    try {
      check.check(res);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  it('passes an answer that is exactly what the route declares', async () => {
    expect(await problemsOf('ok', { ok: { status: 200, body: { id: 'a', count: 1 } } })).toBeNull();
    expect(await problemsOf('ok', { ok: { status: 200, body: { id: 'a', count: 1, note: null } } })).toBeNull();
    expect(await problemsOf('gone', { gone: { status: 404, body: { error: { code: 'not_found', message: 'no such thing' } } } })).toBeNull();
  });

  it('fails a renamed field: a required one is missing, an optional one comes under a name the schema does not declare', async () => {
    const message = await problemsOf('renamed', { renamed: { status: 200, body: { id: 'a', counter: 1 } } });
    expect(message).toContain('GET /things/renamed matched GET /things/:kind (getThing) and answered 200');
    expect(message).toContain('count: Invalid input: expected number, received undefined');
    expect(message).toContain('body: {"id":"a","counter":1}');
    expect(await problemsOf('notes', { notes: { status: 200, body: { id: 'a', count: 1, notes: 'x' } } })).toContain(
      'notes: not declared by the schema',
    );
  });

  it('fails a field the schema does not declare even when every declared one is right', async () => {
    expect(await problemsOf('extra', { extra: { status: 200, body: { id: 'a', count: 1, tenant_id: 't1' } } })).toContain(
      'tenant_id: not declared by the schema',
    );
  });

  it('fails a status the route does not declare, and an error not in the error shape', async () => {
    expect(await problemsOf('created', { created: { status: 201, body: { id: 'a', count: 1 } } })).toContain(
      'status 201 is not declared (declared: 200)',
    );
    expect(await problemsOf('conflict', { conflict: { status: 409, body: { error: { code: 'conflict', message: 'x' } } } })).toContain(
      'status 409 is not declared (errors declared: 400, 404, 500, 503)',
    );
    expect(await problemsOf('bare', { bare: { status: 404, body: { message: 'no such thing' } } })).toContain(
      'error: Invalid input: expected object, received undefined',
    );
    expect(await problemsOf('code', { code: { status: 404, body: { error: { code: 'gone', message: 'no such thing' } } } })).toContain(
      'error.code: Invalid option',
    );
  });

  it('fails an answer that leaves out a field the schema would fill in with a default (the document says it is always there)', () => {
    const route: RegisteredRoute = {
      method: 'GET',
      url: '/rules/:id',
      operationId: 'getRule',
      summary: 'A rule',
      tag: 'test',
      access: 'public',
      responses: { 200: { description: 'The rule', schema: z.object({ id: z.string(), warn_days: z.number().default(30) }) } },
      errors: [],
      handle: () => undefined,
    };
    const answer = { method: 'GET', url: '/rules/r1', statusCode: 200, contentType: 'application/json; charset=utf-8' };
    expect(answerProblems(route, { ...answer, body: '{"id":"r1"}' })).toEqual(['warn_days: missing (the schema would fill in 30)']);
    expect(answerProblems(route, { ...answer, body: '{"id":"r1","warn_days":30}' })).toEqual([]);
  });

  it('fails a body of a type the status does not declare', async () => {
    expect(await problemsOf('csv', { csv: { status: 200, body: 'id,count\r\na,1\r\n', type: 'text/csv' } })).toContain(
      'status 200 answered text/csv, which it does not declare (application/json)',
    );
  });
});
