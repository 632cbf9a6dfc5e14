/** The OpenAPI 3.1 document, generated from the route table (never hand-written). */
import { z } from 'zod';
import { errorBodySchema } from './schemas.ts';
import { errorStatuses, type RegisteredRoute, type RouteTable } from './route.ts';

type JsonSchema = Record<string, unknown>;

const COMMON_ERRORS: Record<number, string> = {
  400: 'The request is malformed; the message names the field',
  401: 'No API key, or an unknown or revoked one',
  403: 'The API key may only read',
  404: 'No such resource in this tenant',
  409: 'Conflicts with the current state',
  413: 'The request body is too large',
  415: 'The request body is not JSON (send Content-Type: application/json)',
  429: 'Too many requests for this API key; see Retry-After',
  500: 'An unexpected error (logged)',
  502: 'The provider failed or could not be reached',
  503: 'The database is unavailable',
};

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete json.$schema;
  return json;
}

function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(route: RegisteredRoute): unknown[] {
  const out: unknown[] = [];
  const add = (where: 'path' | 'query', object: z.ZodObject | undefined) => {
    if (object === undefined) return;
    const json = toJsonSchema(object, 'input');
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, schema] of Object.entries(properties)) {
      const { description, ...rest } = schema;
      out.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
        // Arrays are given as repeated keys: ?status=awarded&status=revoked
        ...(rest.type === 'array' ? { style: 'form', explode: true } : {}),
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  return out;
}

function responses(route: RegisteredRoute): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const content: Record<string, unknown> = {};
    if (spec.schema !== undefined) content['application/json'] = { schema: toJsonSchema(spec.schema, 'output') };
    if (spec.binary !== undefined) content[spec.binary] = { schema: { type: 'string', contentMediaType: spec.binary } };
    for (const [type, description] of Object.entries(spec.alternatives ?? {})) {
      content[type] = { schema: { type: 'string', description } };
    }
    out[status] = { description: spec.description, ...(Object.keys(content).length > 0 ? { content } : {}) };
  }
  for (const status of errorStatuses(route)) {
    out[String(status)] = {
      description: COMMON_ERRORS[status] ?? 'Error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

export function buildOpenApiDocument(table: RouteTable, info: OpenApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const route of table.routes) {
    tags.add(route.tag);
    const path = openApiPath(route.url);
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description === undefined ? {} : { description: route.description }),
      tags: [route.tag],
      parameters: parameters(route),
      responses: responses(route),
      security: route.access === 'public' ? [] : [{ apiKey: [] }],
      ...(route.access === 'admin' ? { 'x-certhub-role': 'admin' } : route.access === 'read' ? { 'x-certhub-role': 'read' } : {}),
    };
    if (route.body !== undefined) {
      operation.requestBody = {
        required: !route.body.safeParse(undefined).success,
        content: { 'application/json': { schema: toJsonSchema(route.body, 'input') } },
      };
    }
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    tags: [...tags].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'chk_...',
          description: 'An API key: `Authorization: Bearer chk_...` (create one with `certhub keys create`).',
        },
      },
      schemas: { Error: toJsonSchema(errorBodySchema, 'output') },
    },
  };
}
