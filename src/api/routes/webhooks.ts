/**
 * Webhook endpoints (Standard Webhooks 1.0): create, list, change, delete, send a test event, rotate the secret, the
 * delivery log and redelivery. Admin keys only: an endpoint decides where the tenant's events go.
 */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { EVENT_DESCRIPTIONS, EVENT_TYPES } from '../../outbound/catalog.ts';
import { egressRefusal } from '../../providers/http/egress.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { cursorQuery, idParams, limitQuery } from '../schemas.ts';
import { DELIVERY_STATUSES, deliverySchema, endpointSchema, eventTypeSchema, withSecretSchema } from '../webhook-view.ts';

const TAG = 'webhooks';

const urlSchema = z.string().trim().min(1).max(2000).describe('http(s) URL that receives the POSTs');
const descriptionSchema = z.string().max(500).nullable().describe('What it is for');
const typesSchema = z.array(eventTypeSchema).max(EVENT_TYPES.length).describe('Event types to receive; [] or absent: every type');

const createBody = z.strictObject({
  url: urlSchema,
  description: descriptionSchema.optional(),
  event_types: typesSchema.optional(),
  enabled: z.boolean().optional(),
});

const patchBody = z
  .strictObject({
    url: urlSchema.optional(),
    description: descriptionSchema.optional(),
    event_types: typesSchema.optional(),
    enabled: z.boolean().optional().describe('true re-enables an endpoint certhub disabled (clearing the reason)'),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one of url, description, event_types, enabled' });

async function publicEndpoint(deps: RouteDeps, e: WebhookEndpoint): Promise<z.output<typeof endpointSchema>> {
  const { tenant_id: tenantId, ...rest } = e;
  return { ...rest, failed_deliveries: await deps.store.webhooks.countFailed(tenantId, e.id) };
}

function publicDelivery(d: WebhookDelivery): z.output<typeof deliverySchema> {
  return d;
}

/**
 * The URL an endpoint may have: http(s), a host, no credentials, no fragment, and a host the egress policy lets
 * certhub connect to (every address it resolves to is checked now; each delivery checks again on connect).
 */
async function checkedUrl(deps: RouteDeps, text: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AppError('invalid_request', 'url: must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('invalid_request', 'url: must be an http(s) URL');
  if (url.username !== '' || url.password !== '') throw new AppError('invalid_request', 'url: must not carry user:password@ (the signature authenticates certhub)');
  if (text.includes('#')) throw new AppError('invalid_request', 'url: must not have a #fragment');
  try {
    await deps.egress.resolve(url.hostname);
  } catch (err) {
    const refused = egressRefusal(err);
    if (refused !== null) {
      throw new AppError(
        'invalid_request',
        refused.metadata
          ? `url: certhub's egress policy refuses ${url.hostname}: it is a cloud metadata address, refused even with outbound.allow_private; only an entry in outbound.allow lets certhub connect to it`
          : `url: certhub's egress policy refuses ${url.hostname}: the address is private, loopback, link-local or otherwise not public; set outbound.allow_private: true or list the host or its network in outbound.allow to allow it`,
      );
    }
    throw new AppError('invalid_request', `url: the host ${url.hostname} does not resolve`);
  }
  return url.toString();
}

export function registerWebhookRoutes(table: RouteTable, deps: RouteDeps): void {
  const { store } = deps;
  const endpointOf = async (tenantId: string, id: string) => {
    const found = await store.webhooks.getEndpoint(tenantId, id);
    if (found === null) throw new AppError('not_found', `webhook endpoint ${id} not found`);
    return found;
  };

  table.add({
    method: 'GET',
    url: '/v1/webhooks/event-types',
    operationId: 'listWebhookEventTypes',
    summary: 'The event catalogue: every type an endpoint can receive',
    tag: TAG,
    access: 'read',
    responses: {
      200: {
        description: 'Every event type with what it means',
        schema: z.object({ items: z.array(z.object({ type: eventTypeSchema, description: z.string() })) }),
      },
    },
    handler() {
      return Promise.resolve({ items: EVENT_TYPES.map((type) => ({ type, description: EVENT_DESCRIPTIONS[type] })) });
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/webhooks',
    operationId: 'listWebhooks',
    summary: "The tenant's webhook endpoints",
    tag: TAG,
    access: 'admin',
    responses: { 200: { description: 'Every endpoint, oldest first', schema: z.object({ items: z.array(endpointSchema) }) } },
    async handler({ caller }) {
      const endpoints = await store.webhooks.listEndpoints(caller!.tenantId);
      return { items: await Promise.all(endpoints.map((e) => publicEndpoint(deps, e))) };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/webhooks',
    operationId: 'createWebhook',
    summary: 'Create a webhook endpoint (its secret is in the answer)',
    description:
      'Deliveries are POSTs of `{"type", "timestamp", "data"}` signed per Standard Webhooks 1.0 (`webhook-id`, ' +
      '`webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`). A delivery succeeds on a ' +
      '2xx within 15 s; otherwise it is retried with backoff for about three days. Redirects are never followed; a 410 ' +
      "disables the endpoint. The URL must pass certhub's egress policy (no private or loopback addresses unless " +
      '`outbound.allow_private` or `outbound.allow` permits them).',
    tag: TAG,
    access: 'admin',
    body: createBody,
    responses: { 201: { description: 'Created, with its secret', schema: withSecretSchema } },
    async handler({ caller, body, reply }) {
      const url = await checkedUrl(deps, body.url);
      const { endpoint, secret } = await store.webhooks.createEndpoint(
        caller!.tenantId,
        {
          url,
          description: body.description ?? null,
          event_types: body.event_types ?? [],
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
        },
        { now: deps.now() },
      );
      reply.code(201);
      return { ...(await publicEndpoint(deps, endpoint)), secret };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/webhooks/:id',
    operationId: 'getWebhook',
    summary: 'One webhook endpoint',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The endpoint', schema: endpointSchema } },
    async handler({ caller, params }) {
      return publicEndpoint(deps, await endpointOf(caller!.tenantId, params.id));
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/webhooks/:id/secret',
    operationId: 'getWebhookSecret',
    summary: "The endpoint's current secret (and the previous one while it is still signed with)",
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404],
    responses: {
      200: {
        description: 'The secrets',
        schema: z.object({ secret: z.string(), previous_secret: z.string().nullable(), previous_secret_until: z.string().nullable() }),
      },
    },
    async handler({ caller, params }) {
      const secrets = await store.webhooks.getSecrets(caller!.tenantId, params.id);
      if (secrets === null) throw new AppError('not_found', `webhook endpoint ${params.id} not found`);
      const stillSigned = secrets.previous !== null && secrets.previous_until !== null && Date.parse(secrets.previous_until) > deps.now().getTime();
      return {
        secret: secrets.current,
        previous_secret: stillSigned ? secrets.previous : null,
        previous_secret_until: stillSigned ? secrets.previous_until : null,
      };
    },
  });

  table.add({
    method: 'PATCH',
    url: '/v1/webhooks/:id',
    operationId: 'updateWebhook',
    summary: 'Change an endpoint (fields left out stay as they are); enabled: true re-enables one certhub disabled',
    tag: TAG,
    access: 'admin',
    params: idParams,
    body: patchBody,
    errors: [404],
    responses: { 200: { description: 'The endpoint as it is now', schema: endpointSchema } },
    async handler({ caller, params, body }) {
      await endpointOf(caller!.tenantId, params.id);
      const url = body.url === undefined ? undefined : await checkedUrl(deps, body.url);
      const endpoint = await store.webhooks.updateEndpoint(
        caller!.tenantId,
        params.id,
        {
          ...(url === undefined ? {} : { url }),
          ...(body.description === undefined ? {} : { description: body.description }),
          ...(body.event_types === undefined ? {} : { event_types: body.event_types }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
        },
        { now: deps.now() },
      );
      if (body.enabled === true) deps.wakeWebhooks();
      return publicEndpoint(deps, endpoint);
    },
  });

  table.add({
    method: 'DELETE',
    url: '/v1/webhooks/:id',
    operationId: 'deleteWebhook',
    summary: 'Delete an endpoint and its delivery log',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404],
    responses: { 204: { description: 'Deleted' } },
    async handler({ caller, params, reply }) {
      if (!(await store.webhooks.deleteEndpoint(caller!.tenantId, params.id))) {
        throw new AppError('not_found', `webhook endpoint ${params.id} not found`);
      }
      return reply.code(204).send();
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/webhooks/:id/test',
    operationId: 'testWebhook',
    summary: 'Send a webhook.test event to this endpoint (queued; see its deliveries for the outcome)',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404, 409],
    responses: { 202: { description: 'Queued', schema: deliverySchema } },
    async handler({ caller, params, reply }) {
      const delivery = await store.webhooks.queueTest(caller!.tenantId, params.id, { now: deps.now() });
      deps.wakeWebhooks();
      reply.code(202);
      return publicDelivery(delivery);
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/webhooks/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: 'A new secret; the old one is still signed with for 24 hours (both signatures are sent)',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404],
    responses: { 200: { description: 'The endpoint with its new secret', schema: withSecretSchema } },
    async handler({ caller, params }) {
      const { endpoint, secret } = await store.webhooks.rotateSecret(caller!.tenantId, params.id, { now: deps.now() });
      return { ...(await publicEndpoint(deps, endpoint)), secret };
    },
  });

  table.add({
    method: 'GET',
    url: '/v1/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "The endpoint's deliveries, newest first",
    tag: TAG,
    access: 'admin',
    params: idParams,
    query: z.object({
      limit: limitQuery,
      cursor: cursorQuery,
      status: z.enum(DELIVERY_STATUSES).optional().describe('Only deliveries in this state'),
    }),
    errors: [404],
    responses: {
      200: { description: 'A page of deliveries', schema: z.object({ items: z.array(deliverySchema), next_cursor: z.string().nullable() }) },
    },
    async handler({ caller, params, query }) {
      await endpointOf(caller!.tenantId, params.id);
      const page = await store.webhooks.listDeliveries(caller!.tenantId, params.id, {
        ...(query.limit === undefined ? {} : { limit: query.limit }),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        ...(query.status === undefined ? {} : { status: query.status }),
      });
      return { items: page.items.map(publicDelivery), next_cursor: page.next_cursor };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/webhooks/:id/replay',
    operationId: 'replayWebhook',
    summary: 'Deliver again every event that failed to reach this endpoint (once each, same webhook-ids)',
    description:
      'For an endpoint that was down: each event whose deliveries all failed (and that is not on its way again) is ' +
      'queued once more. `since` limits it to deliveries created from that instant on.',
    tag: TAG,
    access: 'admin',
    params: idParams,
    body: z
      .strictObject({ since: z.iso.datetime({ offset: true }).optional().describe('Only failures created from then on (ISO 8601)') })
      .optional(),
    errors: [404, 409],
    responses: { 202: { description: 'The new deliveries, queued', schema: z.object({ items: z.array(deliverySchema) }) } },
    async handler({ caller, params, body, reply }) {
      const since = body?.since === undefined ? undefined : new Date(body.since).toISOString();
      const items = await store.webhooks.replayFailed(caller!.tenantId, params.id, { now: deps.now(), ...(since === undefined ? {} : { since }) });
      if (items.length > 0) deps.wakeWebhooks();
      reply.code(202);
      return { items: items.map(publicDelivery) };
    },
  });

  table.add({
    method: 'POST',
    url: '/v1/webhook-deliveries/:id/redeliver',
    operationId: 'redeliverWebhook',
    summary: 'Deliver the same event to the same endpoint again (same webhook-id), now',
    tag: TAG,
    access: 'admin',
    params: idParams,
    errors: [404, 409],
    responses: { 202: { description: 'The new delivery, queued', schema: deliverySchema } },
    async handler({ caller, params, reply }) {
      const delivery = await store.webhooks.redeliver(caller!.tenantId, params.id, { now: deps.now() });
      deps.wakeWebhooks();
      reply.code(202);
      return publicDelivery(delivery);
    },
  });
}
