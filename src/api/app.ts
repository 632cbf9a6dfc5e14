import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { describeError, isAppError } from '../errors.ts';
import type { Store } from '../store/index.ts';
import { httpStatusFor, sendError } from './errors.ts';

export interface AppDeps {
  store: Pick<Store, 'ping'>;
  /** A pino logger (secrets redacted by path); omit for silence (tests). */
  logger?: FastifyBaseLogger;
}

/** The HTTP API, not yet listening: `app.inject()` in tests, `app.listen()` in `certhub serve`. */
export function createApp(deps: AppDeps): FastifyInstance {
  const app: FastifyInstance =
    deps.logger === undefined ? Fastify({ logger: false }) : Fastify({ loggerInstance: deps.logger });

  // Probes run every few seconds; logging each one would drown everything else.
  app.get('/healthz', { logLevel: 'warn' }, () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    try {
      await deps.store.ping();
    } catch (err) {
      return sendError(reply, 'database_unavailable', describeError(err));
    }
    return { status: 'ready' };
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, 'not_found', `no route for ${request.method} ${request.url}`));

  app.setErrorHandler((err: unknown, request, reply) => {
    if (isAppError(err)) {
      if (httpStatusFor(err.code) >= 500) request.log.error({ err }, 'request failed');
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
