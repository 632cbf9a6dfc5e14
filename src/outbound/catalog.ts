/**
 * The event catalogue (issue 16): what certhub tells other systems, as thin payloads (`type`, `timestamp`, `data` with
 * the ids to fetch the full objects from the API). A receiver must ignore types it does not know: new ones are added
 * (compliance events with requirement audiences are next) without a version change; a type's `data` only gains fields.
 */
export const EVENT_TYPES = [
  'certificate.created',
  'certificate.updated',
  'certificate.revoked',
  'certificate.deleted',
  'certificate.expiring',
  'certificate.expired',
  'person.merged',
  'person.unmerged',
  'push.succeeded',
  'push.failed',
  'sync.finished',
  'sync.failed',
  'webhook.test',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** What the catalogue says of each type (GET /v1/webhooks/event-types, the README). */
export const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  'certificate.created': 'a sync stored a certificate certhub did not have',
  'certificate.updated': 'a stored certificate changed (status, dates, subject, file)',
  'certificate.revoked': 'a certificate became revoked on its platform',
  'certificate.deleted': 'a certificate is gone from its platform (a full scan no longer returns it)',
  'certificate.expiring': 'a valid certificate ends within the warning window (30 days); once per certificate and end date',
  'certificate.expired': 'a certificate passed its end date; once per certificate and end date',
  'person.merged': 'two people were merged into one',
  'person.unmerged': 'a merge was undone',
  'push.succeeded': "a push reached its target platform: data.action is created (the copy is there and visible), revoked, awarded (again), or already_there (the platform had it before: left alone)",
  'push.failed': 'a push gave up: refused by the target, not verified in time, or failing for days (retry it by hand)',
  'sync.finished': 'a sync run of a source succeeded (with its counts)',
  'sync.failed': 'a sync run of a source failed',
  'webhook.test': 'sent by "send test event" (POST /v1/webhooks/{id}/test), to this endpoint only',
};

/** An event as it is produced: the store gives it its id and keeps it with the deliveries it causes. */
export interface NewEvent {
  type: EventType;
  /** ISO instant of the change. */
  occurred_at: string;
  data: Record<string, unknown>;
}

/** The body of a webhook delivery: Standard Webhooks' recommended shape. */
export function eventBody(event: { type: string; occurred_at: string; data: unknown }): string {
  return JSON.stringify({ type: event.type, timestamp: event.occurred_at, data: event.data });
}
