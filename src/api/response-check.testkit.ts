/**
 * Holds every answer a test sees to what its route declares (route.ts, the same declarations /openapi.json is built
 * from), so a renamed, retyped or undeclared field fails the test that met it instead of reaching clients:
 *
 * - the status is one the route declares (its `responses`, or an error status of `errorStatuses`);
 * - a JSON body parses with that status's schema, and parsing changes nothing: no field the schema does not declare,
 *   none left for a default to fill in;
 * - an error status answers the error shape `{"error": {"code", "message"}}`, on every route and on unknown URLs;
 * - any other body is of a type the status declares (`binary`, `alternatives`).
 *
 * Answers of what the table does not declare (the UI, the docs, the probes) are only held to the error shape.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { declaredRouteOf, errorStatuses, type RegisteredRoute } from './route.ts';
import { errorBodySchema } from './schemas.ts';

/** Problems shown per answer; the rest are counted. */
const MAX_PROBLEMS = 10;

export interface Answer {
  method: string;
  url: string;
  statusCode: number;
  contentType: string | undefined;
  body: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(body)' : path.join('.');
}

/** Where parsing the JSON sent changed it: fields the schema does not declare, defaults it filled in, transforms. */
function changes(sent: unknown, parsed: unknown, path: (string | number)[], out: string[]): void {
  if (isPlainObject(sent) && isPlainObject(parsed)) {
    for (const key of Object.keys(sent)) {
      if (!Object.hasOwn(parsed, key)) out.push(`${at([...path, key])}: not declared by the schema`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (!Object.hasOwn(sent, key)) {
        if (value !== undefined) out.push(`${at([...path, key])}: missing (the schema would fill in ${JSON.stringify(value)})`);
      } else {
        changes(sent[key], value, [...path, key], out);
      }
    }
    return;
  }
  if (Array.isArray(sent) && Array.isArray(parsed) && sent.length === parsed.length) {
    sent.forEach((item, i) => changes(item, parsed[i], [...path, i], out));
    return;
  }
  if (!Object.is(sent, parsed)) out.push(`${at(path)}: the schema turns ${JSON.stringify(sent)} into ${JSON.stringify(parsed)}`);
}

function bodyProblems(schema: z.ZodType, body: string): string[] {
  let sent: unknown;
  try {
    sent = JSON.parse(body);
  } catch {
    return ['the body is not JSON although its content type says so'];
  }
  const parsed = schema.safeParse(sent);
  if (!parsed.success) return parsed.error.issues.map((issue) => `${at(issue.path as (string | number)[])}: ${issue.message}`);
  const out: string[] = [];
  changes(sent, parsed.data, [], out);
  return out;
}

/** Everything wrong with one answer against what its route declares (`route` null: a URL the table does not declare). */
export function answerProblems(route: RegisteredRoute | null, answer: Answer): string[] {
  const { statusCode: status, body } = answer;
  // A HEAD answer has the headers of its GET and no body to check.
  if (answer.method === 'HEAD') return [];
  const mediaType = answer.contentType?.split(';')[0]?.trim().toLowerCase();
  const json = mediaType === 'application/json';
  if (status >= 400) {
    const problems: string[] = [];
    if (route !== null && !errorStatuses(route).includes(status)) {
      problems.push(`status ${status} is not declared (errors declared: ${errorStatuses(route).join(', ')})`);
    }
    if (json) problems.push(...bodyProblems(errorBodySchema, body));
    else if (route !== null || body !== '') problems.push(`an error answered as ${mediaType ?? 'no content type'}, not the JSON error shape`);
    return problems;
  }
  if (route === null) return [];
  const spec = route.responses[status];
  if (spec === undefined) return [`status ${status} is not declared (declared: ${Object.keys(route.responses).join(', ')})`];
  if (json) {
    return spec.schema === undefined ? [`status ${status} declares no JSON body, but JSON was answered`] : bodyProblems(spec.schema, body);
  }
  if (body === '') return spec.schema === undefined ? [] : [`status ${status} declares a JSON body, but the body is empty`];
  const declared = [spec.binary, ...Object.keys(spec.alternatives ?? {})].filter((t) => t !== undefined);
  return mediaType !== undefined && declared.includes(mediaType)
    ? []
    : [`status ${status} answered ${mediaType ?? 'no content type'}, which it does not declare (${[...(spec.schema === undefined ? [] : ['application/json']), ...declared].join(', ') || 'an empty body'})`];
}

/** The problems as one message: the request, the route it matched, the status, each problem, the start of the body. */
export function describeAnswerProblems(route: RegisteredRoute | null, answer: Answer, problems: readonly string[]): string {
  const matched = route === null ? 'no declared route' : `${route.method} ${route.url} (${route.operationId})`;
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => `  ${p}`);
  if (problems.length > MAX_PROBLEMS) shown.push(`  ... and ${problems.length - MAX_PROBLEMS} more`);
  return [
    `${answer.method} ${answer.url} matched ${matched} and answered ${answer.statusCode}, which does not match what the route declares:`,
    ...shown,
    `body: ${answer.body.length > 300 ? `${answer.body.slice(0, 300)}...` : answer.body}`,
  ].join('\n');
}

export interface ResponseCheck {
  /** Throws, naming the route, the status and every problem, when the answer is not what its route declares. */
  check(response: LightMyRequestResponse): void;
}

/** Watches which declared route answers each request of `app`; call before the app is ready (before the first inject). */
export function createResponseCheck(app: FastifyInstance): ResponseCheck {
  const routes = new WeakMap<ServerResponse, RegisteredRoute | null>();
  app.addHook('onSend', (request, reply, payload, done) => {
    routes.set(reply.raw, declaredRouteOf(request));
    done(null, payload);
  });
  return {
    check(response) {
      const req = response.raw.req;
      const answer: Answer = {
        method: req.method ?? 'GET',
        url: req.url ?? '',
        statusCode: response.statusCode,
        contentType: response.headers['content-type']?.toString(),
        body: response.body,
      };
      const route = routes.get(response.raw.res) ?? null;
      const problems = answerProblems(route, answer);
      if (problems.length > 0) throw new Error(describeAnswerProblems(route, answer, problems));
    },
  };
}
