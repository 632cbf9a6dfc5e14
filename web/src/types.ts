/** The API's shapes as the UI reads them (see /openapi.json for the full ones). */
/** The API's own types: a certificate as it answers one, and a provider of GET /v1/providers. */
export type { Certificate } from '../../src/domain/certificate.ts';
export type { ProviderView } from '../../src/api/provider-view.ts';
/**
 * A sync run as lists and a source's last_run show it (RunSummary, with its warnings), one run with its full report
 * (RunDetail: requests_by_endpoint, throttled_429, retries), and a source (SourceView; its `id` is its slug).
 */
export type { RunDetail, RunSummary, RunWarningView, SourceView } from '../../src/api/run-view.ts';
import type { RunSummary } from '../../src/api/run-view.ts';

export function errorText(error: RunSummary['error']): string | null {
  return error === null ? null : error.message;
}

/** A webhook delivery's state (GET /v1/webhooks/{id}/deliveries?status=). */
export type DeliveryStatus = 'pending' | 'delivering' | 'succeeded' | 'failed' | 'cancelled';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivering', 'succeeded', 'failed', 'cancelled'];

/** A webhook endpoint as GET /v1/webhooks answers it (never with its secret). */
export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  /** [] is every type. */
  event_types: string[];
  enabled: boolean;
  /** Why certhub disabled it (410 Gone, failing for days); null otherwise. */
  disabled_reason: string | null;
  failing_since: string | null;
  /** After a rotation: until when deliveries are signed with the previous secret too. */
  previous_secret_until: string | null;
  /** Events that failed to reach it and are not on their way again (replay sends them). */
  failed_deliveries: number;
  created_at: string;
  updated_at: string;
}

/** POST /v1/webhooks and POST /v1/webhooks/{id}/rotate-secret: the endpoint with its (new) whsec_ secret. */
export type WebhookEndpointWithSecret = WebhookEndpointView & { secret: string };

/** One delivery of an event to an endpoint; `event_id` is the webhook-id header, the same on every redelivery. */
export interface WebhookDeliveryView {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  /** The first 1 KB of the endpoint's last answer. */
  last_response: string | null;
  created_at: string;
  finished_at: string | null;
}

/** GET /v1/webhooks/event-types. */
export interface WebhookEventTypeView {
  type: string;
  description: string;
}
