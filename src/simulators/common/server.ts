/**
 * The HTTP server every provider simulator runs on (node:http, no framework: a simulator must be
 * fast enough never to be the bottleneck of a sync). A provider declares its routes as data; this
 * module adds fault injection, counters and the control API under `/__sim/`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCounters, type Counters } from './counters.ts';
import { createFaults, type FaultSettings, type Faults, NO_FAULTS } from './faults.ts';

export interface SimRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** `http://127.0.0.1:PORT`: the simulator's own origin, for absolute links it hands out. */
  origin: string;
  now: Date;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialized as JSON unless `body` is given. */
  json?: unknown;
  body?: Buffer | string;
}

export interface SimRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path pattern; `:name` captures one segment. */
  path: string;
  /** Counter name, e.g. `GET /v2/diplomas`. Defaults to `METHOD path`. */
  name?: string;
  /** One line for the `/__sim` index. */
  doc?: string;
  handle(req: SimRequest): SimResponse | Promise<SimResponse>;
}

export interface SimServerOptions {
  name: string;
  routes: SimRoute[];
  /** Provider-specific control routes, mounted under `/__sim/` (no faults, no rate limits). */
  controlRoutes?: SimRoute[];
  /** The ground truth: every certificate the provider currently exposes, normalized. */
  truth(): unknown;
  /** The provider's own error body for an injected 5xx / 429, in its documented error shape. */
  errorBody(status: number, message: string): unknown;
  clock?: () => Date;
  maxBodyBytes?: number;
  /**
   * Django's APPEND_SLASH (CommonMiddleware, DEBUG off): provider routes match their declared path exactly, and a
   * request whose path lacks a trailing slash that one of them has is answered 301 to the slashed path (query kept),
   * whatever the method. Control routes keep the slash optional. Default false (the slash is optional everywhere).
   */
  appendSlash?: boolean;
  /** The answer for a path no route matches (default: 404 with `errorBody`). */
  notFound?(req: { method: string; path: string }): SimResponse;
}

export interface SimServer {
  readonly name: string;
  readonly counters: Counters;
  readonly faults: Faults;
  /** Base URL once listening, e.g. `http://127.0.0.1:3101`. */
  url(): string;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  /** For embedding in another server or for tests that want the raw listener. */
  handler: http.RequestListener;
}

interface CompiledRoute {
  route: SimRoute;
  name: string;
  regex: RegExp;
  keys: string[];
  control: boolean;
}

function compile(route: SimRoute, control: boolean, exact = false): CompiledRoute {
  const keys: string[] = [];
  const full = control ? `/__sim${route.path === '/' ? '' : route.path}` : route.path;
  const pattern = full
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) {
        keys.push(seg.slice(1));
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { route, name: route.name ?? `${route.method} ${full}`, regex: new RegExp(exact ? `^${pattern}$` : `^${pattern}/?$`), keys, control };
}

/** A control route's JSON object body (empty body = `{}`), or null when it is not one. */
export function readJsonObject(req: SimRequest): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(req.body.toString('utf8') || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function jsonResponse(status: number, json: unknown, headers?: Record<string, string>): SimResponse {
  return headers ? { status, json, headers } : { status, json };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(null);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseFaultPatch(body: Buffer): Partial<FaultSettings> | string {
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return 'body must be JSON';
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'body must be a JSON object';
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!(key in NO_FAULTS)) return `unknown fault setting: ${key}`;
    const expected = typeof NO_FAULTS[key as keyof FaultSettings];
    if (typeof value !== expected) return `${key} must be a ${expected}`;
    if (key.endsWith('_rate') && ((value as number) < 0 || (value as number) > 1)) return `${key} must be between 0 and 1`;
    if (key === 'retry_after_format' && value !== 'seconds' && value !== 'http-date') return 'retry_after_format must be seconds or http-date';
    patch[key] = value;
  }
  return patch;
}

export function createSimServer(opts: SimServerOptions): SimServer {
  const counters = createCounters();
  const faults = createFaults();
  const clock = opts.clock ?? (() => new Date());
  const maxBody = opts.maxBodyBytes ?? 20 * 1024 * 1024;
  let origin = '';

  const builtinControl: SimRoute[] = [
    {
      method: 'GET',
      path: '/',
      doc: 'This index: every route of this simulator, provider and control.',
      handle: () =>
        jsonResponse(200, {
          simulator: opts.name,
          routes: compiled.map((c) => ({ method: c.route.method, path: c.control ? `/__sim${c.route.path === '/' ? '' : c.route.path}` : c.route.path, doc: c.route.doc ?? null })),
        }),
    },
    { method: 'GET', path: '/faults', doc: 'Current fault settings.', handle: () => jsonResponse(200, faults.settings()) },
    {
      method: 'POST',
      path: '/faults',
      doc: 'Change fault settings (JSON object with any of the fields of GET /__sim/faults).',
      handle: (req) => {
        const patch = parseFaultPatch(req.body);
        return typeof patch === 'string' ? jsonResponse(400, { error: patch }) : jsonResponse(200, faults.update(patch));
      },
    },
    {
      method: 'DELETE',
      path: '/faults',
      doc: 'Turn every fault off.',
      handle: () => {
        faults.clear();
        return jsonResponse(200, faults.settings());
      },
    },
    { method: 'GET', path: '/counters', doc: 'Requests by endpoint, responses by status, 429s sent, faults injected.', handle: () => jsonResponse(200, counters.snapshot()) },
    {
      method: 'POST',
      path: '/counters/reset',
      doc: 'Zero every counter.',
      handle: () => {
        counters.reset();
        return jsonResponse(200, counters.snapshot());
      },
    },
    { method: 'GET', path: '/truth', doc: 'Ground truth: every certificate the provider exposes now, normalized, sorted by external_id.', handle: () => jsonResponse(200, opts.truth()) },
  ];

  const compiled: CompiledRoute[] = [
    ...builtinControl.map((r) => compile(r, true)),
    ...(opts.controlRoutes ?? []).map((r) => compile(r, true)),
    ...opts.routes.map((r) => compile(r, false, opts.appendSlash === true)),
  ];

  /** APPEND_SLASH: does the path with a slash appended match a provider route (any method)? */
  const slashRedirect = (url: URL): SimResponse | null => {
    if (!opts.appendSlash || url.pathname.endsWith('/')) return null;
    const slashed = `${url.pathname}/`;
    if (!compiled.some((c) => !c.control && c.regex.test(slashed))) return null;
    // HttpResponsePermanentRedirect: a relative Location, an empty HTML body.
    return { status: 301, headers: { location: `${slashed}${url.search}`, 'content-type': 'text/html; charset=utf-8' }, body: '' };
  };

  const send = (res: http.ServerResponse, out: SimResponse, truncate: boolean): void => {
    // A server's Date header is its own clock: the simulator's (pinned in tests), not Node's wall clock.
    const headers: Record<string, string> = { date: clock().toUTCString(), ...out.headers };
    let payload: Buffer;
    if (out.body !== undefined) {
      payload = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
    } else {
      payload = Buffer.from(JSON.stringify(out.json ?? null));
      headers['content-type'] ??= 'application/json';
    }
    counters.response(out.status);
    if (out.status === 429) counters.throttled();
    if (truncate && out.body === undefined && payload.length > 2) {
      // Status 200 and a body cut in half: valid HTTP (chunked), invalid JSON.
      counters.fault('truncated_body');
      res.writeHead(out.status, headers);
      res.end(payload.subarray(0, Math.floor(payload.length / 2)));
      return;
    }
    headers['content-length'] = String(payload.length);
    res.writeHead(out.status, headers);
    res.end(payload);
  };

  const handler: http.RequestListener = (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sim.invalid');
      const method = req.method ?? 'GET';
      let match: { c: CompiledRoute; params: Record<string, string> } | undefined;
      let pathMatched = false;
      for (const c of compiled) {
        const m = c.regex.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (c.route.method !== method) continue;
        const params: Record<string, string> = {};
        c.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1] ?? '')));
        match = { c, params };
        break;
      }
      const redirect = match || pathMatched ? null : slashRedirect(url);
      counters.request(match ? match.c.name : pathMatched ? 'method_not_allowed' : redirect ? 'redirect' : 'not_found');
      if (redirect) {
        send(res, redirect, false);
        return;
      }
      if (!match && !pathMatched && opts.notFound) {
        send(res, opts.notFound({ method, path: url.pathname }), false);
        return;
      }
      if (!match) {
        send(res, jsonResponse(pathMatched ? 405 : 404, opts.errorBody(pathMatched ? 405 : 404, pathMatched ? 'Method not allowed' : 'Not found')), false);
        return;
      }
      const { c, params } = match;
      const now = clock();
      if (!c.control) {
        const decision = faults.decide(now);
        if (decision.kind === 'reset') {
          counters.fault('connection_reset');
          req.socket.destroy();
          return;
        }
        const delay = faults.delayMs();
        if (delay > 0) await sleep(delay);
        if (decision.kind === 'error') {
          counters.fault(`status_${decision.status}`);
          send(res, jsonResponse(decision.status, opts.errorBody(decision.status, 'Simulated server error')), false);
          return;
        }
        if (decision.kind === 'throttle') {
          counters.fault('burst_429');
          send(res, jsonResponse(429, opts.errorBody(429, 'Too Many Requests'), { 'retry-after': decision.retryAfter }), false);
          return;
        }
      }
      const body = await readBody(req, maxBody);
      if (body === null) {
        send(res, jsonResponse(413, opts.errorBody(413, 'Request body too large')), false);
        return;
      }
      const out = await c.route.handle({ method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body, origin, now });
      send(res, out, !c.control && out.status === 200 && faults.shouldTruncate());
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, jsonResponse(500, opts.errorBody(500, err instanceof Error ? err.message : 'Internal error')), false);
      else res.destroy();
    });
  };

  const server = http.createServer({ keepAliveTimeout: 10_000 }, handler);
  return {
    name: opts.name,
    counters,
    faults,
    handler,
    url: () => origin,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address() as AddressInfo;
          origin = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
          resolve(origin);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
