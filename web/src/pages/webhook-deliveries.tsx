/**
 * One webhook endpoint's delivery log, newest first, with redelivery; it refreshes itself while a delivery is on its
 * way (webhooks.tsx shows it under each endpoint).
 */
import { useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { formatDuration, formatInstant } from '../format.ts';
import { DELIVERY_STATUSES, type DeliveryStatus, type WebhookDeliveryView, type WebhookEndpointView } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading } from '../ui.tsx';

const PAGE = 20;
/** How often an open delivery log asks again while a delivery is on its way. */
const POLL_MS = 1500;

/** An id-safe form of text, for element ids. */
export function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '-');
}

interface DeliveryPage {
  items: WebhookDeliveryView[];
  next_cursor: string | null;
}

/** Open deliveries worth asking about again soon: being sent, or due within a minute. */
function inFlight(items: readonly WebhookDeliveryView[], now: number): number {
  return items.filter((d) => d.status === 'delivering' || (d.status === 'pending' && (d.next_attempt_at === null || Date.parse(d.next_attempt_at) <= now + 60_000))).length;
}

function deliveriesPath(endpointId: string, opts: { limit: number; status: DeliveryStatus | ''; cursor: string | null }): string {
  const q = new URLSearchParams({ limit: String(opts.limit) });
  if (opts.status !== '') q.set('status', opts.status);
  if (opts.cursor !== null) q.set('cursor', opts.cursor);
  return `/v1/webhooks/${encodeURIComponent(endpointId)}/deliveries?${q.toString()}`;
}

/**
 * The delivery log, newest first. "Show more" follows next_cursor; a refresh (a new delivery, or one still on its way)
 * reloads from the top as many rows as are shown, so no row goes missing between pages.
 */
export function Deliveries(props: {
  endpoint: WebhookEndpointView;
  version: number;
  onSettled: () => void;
  onRedeliver: (d: WebhookDeliveryView) => Promise<void>;
}) {
  const { endpoint } = props;
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [log, setLog] = useState<DeliveryPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [poll, setPoll] = useState(0);
  const shown = useRef(PAGE);
  const seen = useRef<string | null>(null);

  useEffect(() => {
    let live = true;
    api<DeliveryPage>(deliveriesPath(endpoint.id, { limit: Math.min(Math.max(PAGE, shown.current), 500), status, cursor: null })).then(
      (page) => {
        if (!live) return;
        setLog(page);
        setError(null);
        shown.current = page.items.length;
        // A delivery came or changed state: the endpoint's failure count and state may have changed with it.
        const states = page.items.map((d) => `${d.id}:${d.status}`).join(' ');
        if (seen.current !== null && seen.current !== states) props.onSettled();
        seen.current = states;
      },
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [endpoint.id, endpoint.enabled, endpoint.updated_at, status, props.version, poll]);

  // A disabled endpoint's pending deliveries wait: nothing to watch until it is enabled again. One being sent is
  // watched until it ends, whatever the endpoint's state (the answer that disabled it is that delivery's outcome).
  useEffect(() => {
    if (log === null) return;
    const sending = log.items.some((d) => d.status === 'delivering');
    if (!sending && (!endpoint.enabled || inFlight(log.items, Date.now()) === 0)) return;
    const timer = setTimeout(() => setPoll((n) => n + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [log, endpoint.enabled]);

  async function more() {
    if (log === null || log.next_cursor === null) return;
    try {
      const page = await api<DeliveryPage>(deliveriesPath(endpoint.id, { limit: PAGE, status, cursor: log.next_cursor }));
      const items = [...log.items, ...page.items];
      shown.current = items.length;
      setLog({ items, next_cursor: page.next_cursor });
    } catch (err) {
      setError(err);
    }
  }

  const filterId = `log-status-${slug(endpoint.id)}`;
  const items = log?.items ?? [];
  return (
    <div className="delivery-log">
      <div className="log-head">
        <h3>Delivery log</h3>
        <div>
          <label htmlFor={filterId}>Show</label>
          <select
            id={filterId}
            value={status}
            onChange={(e) => {
              shown.current = PAGE;
              setStatus(e.target.value as DeliveryStatus | '');
            }}
          >
            <option value="">every delivery</option>
            {DELIVERY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s} only
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNote error={error} />
      {log === null && error === null ? <Loading /> : null}
      {log !== null && items.length === 0 ? <Empty>{status === '' ? 'No deliveries yet.' : `No ${status} deliveries.`}</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Deliveries to {endpoint.url}</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Event</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">Last error</th>
              <th scope="col">Time</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td>
                  <Badge value={d.status} />
                </td>
                <td>
                  <code>{d.event_type}</code>
                  <div className="muted">{d.event_id}</div>
                </td>
                <td>{d.attempts}</td>
                <td>
                  {d.last_status_code === null ? '—' : `HTTP ${d.last_status_code}`}
                  {d.last_latency_ms === null ? null : <div className="muted">{formatDuration(d.last_latency_ms)}</div>}
                  {d.last_response === null || d.last_response === '' ? null : (
                    <details>
                      <summary>
                        Response<span className="visually-hidden"> to delivery {d.id}</span>
                      </summary>
                      <pre>{d.last_response}</pre>
                    </details>
                  )}
                </td>
                <td>{d.last_error ?? '—'}</td>
                <td>
                  {formatInstant(d.finished_at ?? d.last_attempt_at ?? d.created_at)}
                  {d.status === 'pending' && d.next_attempt_at !== null ? <div className="muted">next try {formatInstant(d.next_attempt_at)}</div> : null}
                </td>
                <td>
                  {d.status === 'pending' || d.status === 'delivering' ? null : (
                    <button type="button" className="secondary" onClick={() => void props.onRedeliver(d).then(() => setPoll((n) => n + 1))}>
                      Redeliver<span className="visually-hidden"> event {d.event_id}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {log === null || log.next_cursor === null ? null : (
        <button type="button" className="secondary" onClick={() => void more()}>
          Show more deliveries<span className="visually-hidden"> to {endpoint.url}</span>
        </button>
      )}
    </div>
  );
}

