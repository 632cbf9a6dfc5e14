/**
 * Webhook endpoints and their deliveries as the API answers them (GET /v1/webhooks, /deliveries). zod only, like
 * run-view.ts: the web UI takes its types from here.
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../outbound/catalog.ts';

export const DELIVERY_STATUSES = ['pending', 'delivering', 'succeeded', 'failed', 'cancelled'] as const;
export const eventTypeSchema = z.enum(EVENT_TYPES);

export const endpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(eventTypeSchema).describe('The event types it receives; [] is every type'),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().describe('Why certhub disabled it (410 Gone, failing for days); null otherwise'),
    failing_since: z.string().nullable().describe('The first failed delivery since the last success; null while it succeeds'),
    previous_secret_until: z
      .string()
      .nullable()
      .describe('After a rotation: until when deliveries are signed with the previous secret too (two signatures)'),
    failed_deliveries: z.number().int().describe('Events that failed to reach it and are not on their way again (replay sends them)'),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .describe('A webhook endpoint');

export const withSecretSchema = endpointSchema.extend({
  secret: z.string().describe('The whsec_ secret to verify signatures with (Standard Webhooks); shown on create and rotate'),
});

export const deliverySchema = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    event_id: z.string().describe('The webhook-id header: the same on every attempt and redelivery of the event'),
    event_type: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    next_attempt_at: z.string().nullable(),
    last_attempt_at: z.string().nullable(),
    last_status_code: z.number().int().nullable(),
    last_latency_ms: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_response: z.string().nullable().describe("The first 1 KB of the endpoint's last answer"),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .describe('One delivery of an event to an endpoint');


export type WebhookEndpointView = z.output<typeof endpointSchema>;
/** POST /v1/webhooks and POST /v1/webhooks/{id}/rotate-secret: the endpoint with its (new) whsec_ secret. */
export type WebhookEndpointWithSecret = z.output<typeof withSecretSchema>;
export type WebhookDeliveryView = z.output<typeof deliverySchema>;
export type DeliveryStatus = WebhookDeliveryView['status'];
/** GET /v1/webhooks/event-types. */
export interface WebhookEventTypeView {
  type: z.output<typeof eventTypeSchema>;
  description: string;
}
