/**
 * Routes declared as data (STYLE.md, after Hono's zod-openapi): method, path, zod schemas for params, query, body and
 * responses. One RouteTable registers them on Fastify (validating with the same schemas) and feeds the OpenAPI
 * document (openapi.ts), so the docs cannot drift from the code.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { ApiKeyRole } from '../store/api-keys.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Who may call a route: anyone, or a key of at least this role (admin includes read). */
export type RouteAccess = 'public' | ApiKeyRole;

/** The caller of an authenticated route: everything it does is scoped to `tenantId`. */
export interface Caller {
  keyId: string;
  tenantId: string;
  role: ApiKeyRole;
}

export interface ResponseSpec {
  description: string;
  /** JSON body schema (omit for an empty body). */
  schema?: z.ZodType;
  /** Other representations of the same response, e.g. `{ 'text/csv': 'one row per person' }`. */
  alternatives?: Record<string, string>;
  /** e.g. `application/pdf` for a file route (then `schema` is omitted). */
  binary?: string;
}

/** A route's success responses by status code. */
export type ResponseSpecs = Record<number, ResponseSpec>;

/** The JSON body of any of the declared responses that has a schema, as the OpenAPI document states it. */
export type ResponseBody<R extends ResponseSpecs> = {
  [S in keyof R]: R[S] extends { schema: infer T extends z.ZodType } ? z.output<T> : never;
}[keyof R];

/**
 * What a handler gives back: the JSON body of one of its declared responses (the handler sets any status other than
 * 200 with `reply.code()`), or the reply itself when it sent the answer (CSV, a file, 204). A route that declares no
 * JSON body may also return nothing (a stream it wrote itself).
 */
export type HandlerResult<R extends ResponseSpecs> =
  | ResponseBody<R>
  | FastifyReply
  | ([ResponseBody<R>] extends [never] ? void : never);

type ZodObjectLike = z.ZodObject;

export interface RouteSpec<P extends ZodObjectLike, Q extends ZodObjectLike, B extends z.ZodType, R extends ResponseSpecs> {
  method: HttpMethod;
  /** Fastify syntax: `/v1/certificates/:id`. */
  url: string;
  /** Unique, camelCase: becomes the OpenAPI operationId. */
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: RouteAccess;
  params?: P;
  query?: Q;
  body?: B;
  /** Every status the route answers on success; the error statuses are added from `errors`. */
  responses: R;
  /** Error statuses the route may answer besides the ones every route may (400, 401, 403, 429, 500). */
  errors?: number[];
  /** Largest request body accepted, in bytes (default: Fastify's 1 MiB). */
  bodyLimit?: number;
  /** Log level for this route (probes use 'warn'). */
  logLevel?: 'warn' | 'info';
  /** Units of the key's quota the request costs, from its parsed query and body (default 1; key-quota.ts). */
  cost?: (input: { query: z.output<Q>; body: z.output<B> }) => number;
  /** Typed against `responses`: a body that does not match a declared schema fails the type check. */
  handler(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): HandlerResult<R> | Promise<HandlerResult<R>>;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Null only on public routes. */
  caller: Caller | null;
  /** Charges the caller's quota for work done as the answer streams (an export's rows); never refuses. */
  spend: (units: number) => void;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** What the route table keeps of a spec, with its types erased. */
export interface RegisteredRoute {
  method: HttpMethod;
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: RouteAccess;
  params?: ZodObjectLike;
  query?: ZodObjectLike;
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
  errors: number[];
  bodyLimit?: number;
  logLevel?: 'warn' | 'info';
  cost?: (input: { query: unknown; body: unknown }) => number;
  handle(ctx: RouteContext<unknown, unknown, unknown>): unknown;
}

export interface RouteTable {
  add<
    P extends ZodObjectLike = z.ZodObject,
    Q extends ZodObjectLike = z.ZodObject,
    B extends z.ZodType = z.ZodUndefined,
    R extends ResponseSpecs = ResponseSpecs,
  >(spec: RouteSpec<P, Q, B, R>): void;
  readonly routes: readonly RegisteredRoute[];
}

export function createRouteTable(): RouteTable {
  const routes: RegisteredRoute[] = [];
  return {
    routes,
    add(spec) {
      if (routes.some((r) => r.operationId === spec.operationId)) {
        throw new Error(`operationId ${spec.operationId} is declared twice`);
      }
      routes.push({
        method: spec.method,
        url: spec.url,
        operationId: spec.operationId,
        summary: spec.summary,
        ...(spec.description === undefined ? {} : { description: spec.description }),
        tag: spec.tag,
        access: spec.access,
        ...(spec.params === undefined ? {} : { params: spec.params }),
        ...(spec.query === undefined ? {} : { query: spec.query }),
        ...(spec.body === undefined ? {} : { body: spec.body }),
        responses: spec.responses,
        errors: spec.errors ?? [],
        ...(spec.bodyLimit === undefined ? {} : { bodyLimit: spec.bodyLimit }),
        ...(spec.logLevel === undefined ? {} : { logLevel: spec.logLevel }),
        ...(spec.cost === undefined ? {} : { cost: spec.cost as (input: { query: unknown; body: unknown }) => number }),
        // The mount validated params, query and body with these very schemas before calling.
        handle: (ctx) => spec.handler(ctx as Parameters<typeof spec.handler>[0]),
      });
    },
  };
}

/** Methods whose request body Fastify reads before the route runs, whether or not the route declares one. */
const BODY_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/**
 * The error statuses a route may answer, each with the error body: 400, 500 and 503 (the database busy or gone, with
 * Retry-After) on every route, 401 and 429 with a key,
 * 403 for admin routes, 413 (too large) and 415 (not JSON) where a body is read, and the route's own `errors`. In
 * numeric order.
 */
export function errorStatuses(route: RegisteredRoute): number[] {
  const statuses = new Set<number>([400, 500, 503, ...route.errors]);
  if (route.access !== 'public') for (const s of [401, 429]) statuses.add(s);
  if (route.access === 'admin') statuses.add(403);
  if (route.body !== undefined || BODY_METHODS.has(route.method)) for (const s of [413, 415]) statuses.add(s);
  return [...statuses].sort((a, b) => a - b);
}

/** The route of the table a request matched, or null (no such route: the UI, the docs, the probes, unknown URLs). */
export function declaredRouteOf(request: FastifyRequest): RegisteredRoute | null {
  return (request.routeOptions.config as { declaredRoute?: RegisteredRoute }).declaredRoute ?? null;
}

/** `query.limit: must be at most 1000` — every problem, each naming its field. */
export function describeZodError(where: string, error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [where, ...issue.path.map(String)].filter((p) => p !== '').join('.');
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('invalid_request', describeZodError(where, parsed.error));
  return parsed.data;
}

export interface MountOptions {
  /** Resolves the caller of a non-public route, or throws AppError('unauthorized' | 'forbidden' | 'rate_limited'). */
  authenticate(request: FastifyRequest, access: Exclude<RouteAccess, 'public'>): Promise<Caller>;
  /** Takes more of the caller's quota (a route's cost beyond the unit its key check took), or throws 'rate_limited'. */
  charge?(request: FastifyRequest, caller: Caller, units: number): void;
  spend?(caller: Caller, units: number): void;
}

/** Query strings give repeated keys as arrays; a schema field that is not an array takes the last value. */
function queryObject(raw: unknown, schema: ZodObjectLike | undefined): Record<string, unknown> {
  const query = (raw ?? {}) as Record<string, unknown>;
  if (schema === undefined) return query;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    const field = schema.shape[key] as z.ZodType | undefined;
    const wantsArray = field !== undefined && acceptsArray(unwrap(field));
    out[key] = Array.isArray(value) && !wantsArray ? value[value.length - 1] : value;
  }
  return out;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** True when the schema takes an array as input: an array, or a pipe / union (listQuery's shape) that starts with one. */
function acceptsArray(schema: z.ZodType): boolean {
  if (schema instanceof z.ZodArray) return true;
  if (schema instanceof z.ZodPipe) return acceptsArray(unwrap(schema.in as z.ZodType));
  if (schema instanceof z.ZodUnion) return (schema.options as readonly z.ZodType[]).some((o) => acceptsArray(unwrap(o)));
  return false;
}

export function mountRoutes(app: FastifyInstance, table: RouteTable, opts: MountOptions): void {
  // The caller of each request, known before its body is read.
  const callers = new WeakMap<FastifyRequest, Caller>();
  for (const route of table.routes) {
    const access = route.access;
    app.route({
      method: route.method,
      url: route.url,
      ...(route.bodyLimit === undefined ? {} : { bodyLimit: route.bodyLimit }),
      ...(route.logLevel === undefined ? {} : { logLevel: route.logLevel }),
      // The declared route rides along, so whoever sees the request can tell what it promised (declaredRouteOf).
      config: { operationId: route.operationId, declaredRoute: route },
      // The key is checked as the request arrives, before its body is read or parsed: nobody without a key makes
      // certhub parse megabytes of JSON.
      ...(access === 'public'
        ? {}
        : {
            onRequest: async (request: FastifyRequest) => {
              callers.set(request, await opts.authenticate(request, access));
            },
          }),
      handler: async (request, reply) => {
        const caller = access === 'public' ? null : (callers.get(request) ?? (await opts.authenticate(request, access)));
        const params = route.params === undefined ? {} : parseOrThrow(route.params, request.params, 'path');
        const query = route.query === undefined ? {} : parseOrThrow(route.query, queryObject(request.query, route.query), 'query');
        let body: unknown = undefined;
        if (route.body !== undefined) {
          const missing = request.body === undefined || request.body === null;
          // A body schema that accepts undefined (`.optional()`) makes the body optional.
          if (missing && !route.body.safeParse(undefined).success) {
            throw new AppError('invalid_request', 'body: a JSON body is required (Content-Type: application/json)');
          }
          body = missing ? undefined : parseOrThrow(route.body, request.body, 'body');
        }
        // The key check took one unit as the request arrived; a costlier request takes the rest now that its size is known.
        if (caller !== null && route.cost !== undefined) {
          const extra = route.cost({ query, body }) - 1;
          if (extra > 0) opts.charge?.(request, caller, extra);
        }
        const spend = (units: number) => {
          if (caller !== null && units > 0) opts.spend?.(caller, units);
        };
        const result = await route.handle({ params, query, body, caller, spend, request, reply });
        if (reply.sent) return reply;
        return result;
      },
    });
  }
}
