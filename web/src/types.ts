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

/** Webhook endpoints and deliveries as the API answers them. */
export type {
  DeliveryStatus,
  WebhookDeliveryView,
  WebhookEndpointView,
  WebhookEndpointWithSecret,
  WebhookEventTypeView,
} from '../../src/api/webhook-view.ts';
import type { DeliveryStatus } from '../../src/api/webhook-view.ts';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivering', 'succeeded', 'failed', 'cancelled'];

/**
 * Push rules and pushes as the API answers them: the types of src/api/push-view.ts's schemas (that file names no
 * types of its own, so they are taken here from its schemas).
 */
import type { z } from 'zod';
import type { pushRuleSchema, pushSchema } from '../../src/api/push-view.ts';

export type PushRuleView = z.output<typeof pushRuleSchema>;
export type PushView = z.output<typeof pushSchema>;
export type PushState = PushView['state'];

// Keyed by state so a state the API adds and the UI lacks fails the typecheck.
const PUSH_STATE_SET: Record<PushState, true> = { queued: true, pushing: true, awaiting_verification: true, pushed: true, revoked: true, failed: true, cancelled: true };
export const PUSH_STATES = Object.keys(PUSH_STATE_SET) as PushState[];
