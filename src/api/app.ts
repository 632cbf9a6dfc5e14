import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { AppError, describeError, isAppError } from '../errors.ts';
import { createEventBus } from '../events.ts';
import { createAuthenticator } from './auth.ts';
import type { ApiDeps, RouteDeps } from './deps.ts';
import { registerDocs } from './docs.ts';
import { httpStatusFor, sendError } from './errors.ts';
import { jsonDeeperThan, MAX_JSON_DEPTH } from '../json-depth.ts';
import { createMetrics } from './metrics.ts';
import { createMetricsAccess } from './metrics-access.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { createKeyRateLimiter, DEFAULT_API_RATE_LIMIT, FAILED_AUTH_LIMIT } from './key-quota.ts';
import { createRouteTable, mountRoutes } from './route.ts';
import { registerAllRoutes } from './routes/index.ts';
import { addSecurityHeaders } from './security-headers.ts';
import { queryIsUtf8 } from './utf8.ts';
import { registerWebUi } from './web.ts';
import { packageVersion } from '../version.ts';
import { createEgressGuard } from '../providers/http/egress.ts';

/** Request bodies above this are refused with 413 (a bulk status of 10,000 people is about 1 MiB). */
export const BODY_LIMIT = 4 * 1024 * 1024;

const DESCRIPTION = `certhub keeps one normalized, always-current store of the certificates people earn across learning
platforms (FrontCore, Falkor, Open edX Credentials, Springest) and answers "does this person hold a valid certificate
for X?" for one person or ten thousand.

Authenticate with an API key: \`Authorization: Bearer chk_...\` (\`certhub keys create --name N --role read|admin\`).
Everything a key sees belongs to its tenant; ids of other tenants answer 404. Errors always look like
\`{"error": {"code": "...", "message": "..."}}\`. Lists are cursor-paginated: pass \`next_cursor\` as \`?cursor=\`.`;

function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request did not arrive in time']
        : [400, 'Bad Request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ error: { code: 'invalid_request', message } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** The HTTP API, not yet listening: `app.inject()` in tests, `app.listen()` in `certhub serve`. */
export function createApp(deps: ApiDeps): FastifyInstance {
  const options = {
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 500 },
    // Errors the router raises before any route runs (a malformed URL, an overlong id) still answer in our shape.
    frameworkErrors: (err: Error & { statusCode?: number }, _request: unknown, reply: FastifyReply) =>
      sendError(reply, 'invalid_request', err.message.split('\n')[0] ?? 'bad request', err.statusCode ?? 400),
    // What Node's HTTP parser refuses before Fastify sees a request (headers too large, a malformed request line)
    // answers in our error shape too.
    clientErrorHandler: answerClientError,
  };
  const app: FastifyInstance =
    deps.logger === undefined ? Fastify({ ...options, logger: false }) : Fastify({ ...options, loggerInstance: deps.logger });
  // Fastify's JSON parser (prototype-poisoning checks included), after a nesting check that needs no parse.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (!isUtf8(bytes)) {
      done(Object.assign(new Error('body: not valid UTF-8'), { statusCode: 400 }), undefined);
      return;
    }
    const text = bytes.toString('utf8');
    if (jsonDeeperThan(text, MAX_JSON_DEPTH)) {
      done(Object.assign(new Error(`body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`), { statusCode: 400 }), undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  // Before any route (and its key check) runs: a query string that is not UTF-8 would reach it as U+FFFD.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!queryIsUtf8(request.raw.url ?? '')) done(new AppError('invalid_request', 'query: the query string is not valid UTF-8'));
    else done();
  });
  const metrics = deps.metrics ?? createMetrics({ processMetrics: false });
  const routeDeps: RouteDeps = {
    store: deps.store,
    events: deps.events ?? createEventBus(),
    metrics,
    connector: deps.connector ?? null,
    sync: deps.sync ?? null,
    now: deps.now ?? (() => new Date()),
    ...(deps.fileDeadlineMs === undefined ? {} : { fileDeadlineMs: deps.fileDeadlineMs }),
    egress: createEgressGuard({
      ...(deps.outbound === undefined ? {} : { policy: deps.outbound }),
      ...(deps.resolve === undefined ? {} : { resolve: deps.resolve }),
    }),
    wakeWebhooks: () => deps.webhookWorker?.wake(),
    wakePushes: () => deps.pushWorker?.wake(),
  };

  const table = createRouteTable();
  registerAllRoutes(table, routeDeps);
  // On the app's clock: a test that pins `now` sees a bucket that refills only when it moves the clock.
  const limiterClock = () => routeDeps.now().getTime();
  const limiter = deps.rateLimit === null ? null : createKeyRateLimiter(deps.rateLimit ?? DEFAULT_API_RATE_LIMIT, limiterClock);
  const retryAfter = new WeakMap<object, number>();
  const auth = createAuthenticator({
    keys: deps.store.apiKeys,
    limiter,
    failures: deps.rateLimit === null ? null : createKeyRateLimiter(FAILED_AUTH_LIMIT, limiterClock),
    onLimited: (request, wait) => retryAfter.set(request, wait),
  });
  mountRoutes(app, table, auth);

  const openapi = buildOpenApiDocument(table, { title: 'certhub API', version: packageVersion(), description: DESCRIPTION });
  app.get('/openapi.json', { logLevel: 'warn' }, () => openapi);
  registerDocs(app);

  // Probes run every few seconds; logging each one would drown everything else.
  app.get('/healthz', { logLevel: 'warn' }, () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    try {
      await deps.store.ping();
    } catch (err) {
      // Which host, port or file did not answer is for the log, not for whoever asks /readyz.
      app.log.warn({ err: describeError(err) }, 'not ready: the database does not answer');
      return sendError(reply, 'database_unavailable', 'the database does not answer');
    }
    return { status: 'ready' };
  });
  const metricsAccess = createMetricsAccess(deps.metricsToken ?? null);
  app.get('/metrics', { logLevel: 'warn', onRequest: (request, _reply, done) => {
    try {
      metricsAccess(request);
      done();
    } catch (err) {
      done(err as Error);
    }
  } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  addSecurityHeaders(app);

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL: ids in URLs would make a label value per certificate.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1000);
    done();
  });

  registerWebUi(app, deps.webRoot ?? null);

  app.setNotFoundHandler((request, reply) => sendError(reply, 'not_found', `no route for ${request.method} ${request.url}`));

  app.setErrorHandler((err: unknown, request, reply) => {
    if (isAppError(err)) {
      if (httpStatusFor(err.code) >= 500) request.log.error({ err }, 'request failed');
      const wait = retryAfter.get(request);
      if (err.code === 'rate_limited' && wait !== undefined) void reply.header('retry-after', String(wait));
      return sendError(reply, err.code, err.message);
    }
    const status = (err as { statusCode?: unknown }).statusCode;
    // Fastify's own 4xx (malformed JSON, wrong content type, body too large) are the caller's to fix.
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(reply, status === 404 ? 'not_found' : 'invalid_request', describeError(err), status);
    }
    request.log.error({ err }, 'request failed');
    return sendError(reply, 'internal', 'internal error');
  });

  return app;
}
