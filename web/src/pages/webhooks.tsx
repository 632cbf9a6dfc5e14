/**
 * Webhook endpoints (admin only): where certhub POSTs the tenant's events, their signing secrets, and each endpoint's
 * delivery log with redelivery. The log refreshes itself while a delivery is on its way.
 */
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { formatInstant, plural } from '../format.ts';
import { Deliveries, slug } from './webhook-deliveries.tsx';
import {
  type WebhookDeliveryView,
  type WebhookEndpointView,
  type WebhookEndpointWithSecret,
  type WebhookEventTypeView,
} from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Notice, Page, useLoad } from '../ui.tsx';

/** A secret on screen: after create or rotation (once), or revealed on request. */
interface ShownSecret {
  endpointId: string;
  title: string;
  secret: string;
  previous: string | null;
  note: string | null;
}

function NewEndpoint(props: { types: WebhookEventTypeView[]; onCreated: (e: WebhookEndpointWithSecret) => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<string[]>([]);
  const [enabled, setEnabled] = useState(true);
  const [error, setError] = useState<unknown>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const body = { url: url.trim(), ...(description.trim() === '' ? {} : { description: description.trim() }), event_types: types, enabled };
      const created = await api<WebhookEndpointWithSecret>('/v1/webhooks', { method: 'POST', body });
      setUrl('');
      setDescription('');
      setTypes([]);
      props.onCreated(created);
    } catch (err) {
      setError(err);
    }
  }
  return (
    <form className="panel" aria-label="New webhook endpoint" onSubmit={(e) => void submit(e)}>
      <label htmlFor="hook-url">URL that receives the events (http or https)</label>
      <input id="hook-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/certhub-events" />
      <label htmlFor="hook-description">Description (optional)</label>
      <input id="hook-description" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />
      <fieldset>
        <legend>Event types (none ticked: every type, also those added later)</legend>
        {props.types.map((t) => (
          <div key={t.type} className="check">
            <input
              type="checkbox"
              id={`hook-type-${slug(t.type)}`}
              checked={types.includes(t.type)}
              onChange={(e) => setTypes(e.target.checked ? [...types, t.type] : types.filter((x) => x !== t.type))}
            />
            <label htmlFor={`hook-type-${slug(t.type)}`}>
              <code>{t.type}</code> <span className="muted">{t.description}</span>
            </label>
          </div>
        ))}
      </fieldset>
      <div className="check">
        <input type="checkbox" id="hook-enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <label htmlFor="hook-enabled">Enabled: deliver events from now on</label>
      </div>
      <ErrorNote error={error} />
      <button type="submit">Create endpoint</button>
    </form>
  );
}

function SecretBox(props: { shown: ShownSecret }) {
  const { shown } = props;
  const id = `secret-${slug(shown.endpointId)}`;
  return (
    <div className="secret-box" role="status">
      <p>
        <strong>{shown.title}</strong>
      </p>
      <label htmlFor={id}>Signing secret</label>
      <input id={id} readOnly value={shown.secret} onFocus={(e) => e.target.select()} />
      {shown.previous === null ? null : (
        <>
          <label htmlFor={`${id}-previous`}>Previous secret (still signed with)</label>
          <input id={`${id}-previous`} readOnly value={shown.previous} onFocus={(e) => e.target.select()} />
        </>
      )}
      {shown.note === null ? null : <p className="muted">{shown.note}</p>}
    </div>
  );
}

function Endpoint(props: {
  endpoint: WebhookEndpointView;
  secret: ShownSecret | null;
  onSecret: (s: ShownSecret | null) => void;
  onChanged: () => void;
  onDeleted: (e: WebhookEndpointView) => void;
}) {
  const e = props.endpoint;
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);

  async function act(action: () => Promise<string | null>) {
    setError(null);
    try {
      setNotice(await action());
    } catch (err) {
      setError(err);
    }
  }
  const base = `/v1/webhooks/${encodeURIComponent(e.id)}`;

  const sendTest = () =>
    act(async () => {
      await api(`${base}/test`, { method: 'POST', body: {} });
      setVersion((n) => n + 1);
      return 'Test event queued; the delivery log shows how it went.';
    });
  const replay = () =>
    act(async () => {
      const { items } = await api<{ items: WebhookDeliveryView[] }>(`${base}/replay`, { method: 'POST', body: {} });
      setVersion((n) => n + 1);
      props.onChanged();
      return `${plural(items.length, 'failed event')} queued again.`;
    });
  const reveal = () =>
    act(async () => {
      if (props.secret !== null) {
        props.onSecret(null);
        return null;
      }
      const s = await api<{ secret: string; previous_secret: string | null; previous_secret_until: string | null }>(`${base}/secret`);
      props.onSecret({
        endpointId: e.id,
        title: 'The current signing secret.',
        secret: s.secret,
        previous: s.previous_secret,
        note: s.previous_secret_until === null ? null : `Deliveries are signed with the previous secret too until ${formatInstant(s.previous_secret_until)}.`,
      });
      return null;
    });
  const rotate = () =>
    act(async () => {
      if (!window.confirm(`Rotate the signing secret of ${e.url}? Deliveries carry signatures with the old and the new secret for a while; update the receiver before the old one stops.`)) return null;
      const rotated = await api<WebhookEndpointWithSecret>(`${base}/rotate-secret`, { method: 'POST', body: {} });
      props.onSecret({
        endpointId: e.id,
        title: 'New signing secret: copy it now and give it to the receiver.',
        secret: rotated.secret,
        previous: null,
        note: rotated.previous_secret_until === null ? null : `Deliveries are still signed with the old secret too until ${formatInstant(rotated.previous_secret_until)}.`,
      });
      props.onChanged();
      return 'Secret rotated.';
    });
  const toggle = () =>
    act(async () => {
      await api(base, { method: 'PATCH', body: { enabled: !e.enabled } });
      props.onChanged();
      return e.enabled ? 'Disabled: events wait until it is enabled again.' : 'Enabled: deliveries go out again.';
    });
  const remove = () =>
    act(async () => {
      if (!window.confirm(`Delete the webhook endpoint ${e.url} and its delivery log? It receives no more events.`)) return null;
      await api(base, { method: 'DELETE' });
      props.onDeleted(e);
      return null;
    });

  const headingId = `hook-${slug(e.id)}`;
  const hidden = <span className="visually-hidden"> of {e.url}</span>;
  return (
    <section className="panel endpoint" aria-labelledby={headingId}>
      <h2 id={headingId}>{e.url}</h2>
      {e.description === null || e.description === '' ? null : <p>{e.description}</p>}
      <dl>
        <dt>State</dt>
        <dd>
          {e.enabled ? <Badge value="valid" label="enabled" /> : <Badge value={e.disabled_reason === null ? 'deleted' : 'failed'} label="disabled" />}
          {e.disabled_reason === null ? null : <span> by certhub: {e.disabled_reason}</span>}
        </dd>
        <dt>Event types</dt>
        <dd>
          {e.event_types.length === 0
            ? 'every type'
            : e.event_types.map((t, i) => (
                <span key={t}>
                  {i === 0 ? '' : ', '}
                  <code>{t}</code>
                </span>
              ))}
        </dd>
        <dt>Failing since</dt>
        <dd>{e.failing_since === null ? 'not failing' : formatInstant(e.failing_since)}</dd>
        <dt>Failed deliveries</dt>
        <dd>{e.failed_deliveries === 0 ? 'none' : <Badge value="failed" label={plural(e.failed_deliveries, 'failed event')} />}</dd>
        {e.previous_secret_until === null ? null : (
          <>
            <dt>Previous secret</dt>
            <dd>still signed with until {formatInstant(e.previous_secret_until)}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{formatInstant(e.created_at)}</dd>
      </dl>
      <div className="row-actions">
        <button type="button" onClick={() => void sendTest()}>
          Send test event{hidden}
        </button>
        {e.failed_deliveries > 0 ? (
          <button type="button" onClick={() => void replay()}>
            Replay failed ({e.failed_deliveries}){hidden}
          </button>
        ) : null}
        <button type="button" className="secondary" aria-expanded={props.secret !== null} onClick={() => void reveal()}>
          {props.secret === null ? 'Reveal secret' : 'Hide secret'}
          {hidden}
        </button>
        <button type="button" className="secondary" onClick={() => void rotate()}>
          Rotate secret{hidden}
        </button>
        <button type="button" className="secondary" onClick={() => void toggle()}>
          {e.enabled ? 'Disable' : 'Enable'}
          {hidden}
        </button>
        <button type="button" className="danger" onClick={() => void remove()}>
          Delete{hidden}
        </button>
      </div>
      {props.secret === null ? null : <SecretBox shown={props.secret} />}
      <Notice text={notice} />
      <ErrorNote error={error} />
      <Deliveries
        endpoint={e}
        version={version}
        onSettled={props.onChanged}
        onRedeliver={(d) =>
          act(async () => {
            await api(`/v1/webhook-deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: 'POST', body: {} });
            return `Event ${d.event_id} queued again (same webhook-id).`;
          })
        }
      />
    </section>
  );
}

export function Webhooks(props: { admin: boolean }) {
  const list = useLoad(() => (props.admin ? api<{ items: WebhookEndpointView[] }>('/v1/webhooks') : Promise.resolve({ items: [] })), [props.admin]);
  const types = useLoad(() => (props.admin ? api<{ items: WebhookEventTypeView[] }>('/v1/webhooks/event-types') : Promise.resolve({ items: [] })), [props.admin]);
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<ShownSecret | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  if (!props.admin) {
    return (
      <Page title="Webhooks">
        <p>Only admin keys can manage webhooks.</p>
      </Page>
    );
  }
  const items = list.data?.items ?? [];
  return (
    <Page
      title="Webhooks"
      actions={
        <button type="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
          {adding ? 'Cancel' : 'Add an endpoint'}
        </button>
      }
    >
      <p className="muted">
        certhub POSTs each event to every endpoint that takes its type, signed per Standard Webhooks (verify the <code>webhook-signature</code> header
        with the endpoint&apos;s secret). A delivery that gets no 2xx is retried for about three days.
      </p>
      {adding && types.data !== null ? (
        <NewEndpoint
          types={types.data.items}
          onCreated={(created) => {
            setAdding(false);
            setNotice(`Created the endpoint ${created.url}.`);
            setSecret({
              endpointId: created.id,
              title: 'Copy this signing secret now and give it to the receiver. Reveal secret shows it again later.',
              secret: created.secret,
              previous: null,
              note: null,
            });
            list.reload();
          }}
        />
      ) : null}
      <Notice text={notice} />
      <ErrorNote error={list.error ?? types.error} />
      {list.loading && list.data === null ? <Loading /> : null}
      {list.data !== null && items.length === 0 ? <Empty>No webhook endpoints yet. Add one to have certhub tell another system about changes as they happen.</Empty> : null}
      {items.map((e) => (
        <Endpoint
          key={e.id}
          endpoint={e}
          secret={secret?.endpointId === e.id ? secret : null}
          onSecret={setSecret}
          onChanged={list.reload}
          onDeleted={(gone) => {
            setNotice(`Deleted the endpoint ${gone.url}.`);
            if (secret?.endpointId === gone.id) setSecret(null);
            list.reload();
          }}
        />
      ))}
    </Page>
  );
}
