import { useEffect, useState } from 'react';
import { api, streamEvents, type HubEvent } from '../api.ts';
import { formatInstant, plural } from '../format.ts';
import { Link } from '../router.tsx';
import { errorText, type PushView, type SourceView, type WebhookEndpointView } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Notice, Page, RunWarnings, useLoad } from '../ui.tsx';

interface Progress {
  done: number;
  total: number | null;
  created: number;
  updated: number;
}

export function Overview(props: { admin: boolean }) {
  const sources = useLoad(() => api<{ items: SourceView[] }>('/v1/sources'), []);
  // GET /v1/webhooks is admin only: a read key would get a 403, so it does not ask.
  const webhooks = useLoad(() => (props.admin ? api<{ items: WebhookEndpointView[] }>('/v1/webhooks') : Promise.resolve(null)), [props.admin]);
  // Any key may read pushes. Counted up to 1000: more is "1000+" (the overview only needs to say there are many).
  const failedPushes = useLoad(() => api<{ items: PushView[]; next_cursor: string | null }>('/v1/pushes?state=failed&limit=1000'), []);
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  useEffect(() => {
    const abort = new AbortController();
    void streamEvents((event: HubEvent) => {
      const source = typeof event.source === 'string' ? event.source : '';
      if (event.type === 'sync.started') {
        setProgress((p) => ({ ...p, [source]: { done: 0, total: null, created: 0, updated: 0 } }));
      } else if (event.type === 'sync.progress') {
        setProgress((p) => ({
          ...p,
          [source]: {
            done: Number(event.done ?? 0),
            total: event.total === null || event.total === undefined ? null : Number(event.total),
            created: Number(event.created ?? 0),
            updated: Number(event.updated ?? 0),
          },
        }));
      } else if (event.type === 'sync.finished') {
        setProgress((p) => {
          const next = { ...p };
          delete next[source];
          return next;
        });
        setNotice(`Sync of ${source} ${event.status === 'succeeded' ? 'finished' : 'failed'}.`);
        sources.reload();
      }
    }, abort.signal);
    return () => abort.abort();
  }, []);

  async function syncNow(s: SourceView) {
    setActionError(null);
    try {
      await api(`/v1/sources/${encodeURIComponent(s.id)}/sync`, { method: 'POST', body: {} });
      setNotice(`Sync of ${s.id} started.`);
      sources.reload();
    } catch (err) {
      setActionError(err);
    }
  }

  const list = sources.data?.items ?? [];
  const total = list.reduce((n, s) => n + (s.certificates ?? 0), 0);
  const endpoints = webhooks.data?.items ?? [];
  const failedEvents = endpoints.reduce((n, e) => n + e.failed_deliveries, 0);
  return (
    <Page title="Overview">
      <Notice text={notice} />
      <ErrorNote error={sources.error ?? actionError ?? webhooks.error ?? failedPushes.error} />
      {failedEvents > 0 ? (
        <p className="overview-webhooks">
          <Badge value="failed" label={plural(failedEvents, 'webhook event')} /> did not reach{' '}
          {endpoints.filter((e) => e.failed_deliveries > 0).length === 1 ? 'its endpoint' : 'their endpoints'}.{' '}
          <Link to="/webhooks">Review and replay on the Webhooks page</Link>.
        </p>
      ) : endpoints.length > 0 ? (
        <p className="overview-webhooks muted">Webhooks: no failed deliveries.</p>
      ) : null}
      {failedPushes.data !== null && failedPushes.data.items.length > 0 ? (
        <p className="overview-webhooks">
          <Badge
            value="failed"
            label={`${failedPushes.data.items.length.toLocaleString()}${failedPushes.data.next_cursor === null ? '' : '+'} failed push${failedPushes.data.items.length === 1 && failedPushes.data.next_cursor === null ? '' : 'es'}`}
          />{' '}
          did not reach {failedPushes.data.items.length === 1 && failedPushes.data.next_cursor === null ? 'its target' : 'their targets'}.{' '}
          <Link to="/push-rules">Review and retry on the Push rules page</Link>.
        </p>
      ) : null}
      {sources.loading && sources.data === null ? <Loading /> : null}
      {sources.data !== null && list.length === 0 ? (
        <Empty>
          No sources yet. {props.admin ? <Link to="/sources">Add a source</Link> : 'An admin can add one under Sources.'} to start
          collecting certificates.
        </Empty>
      ) : null}
      {list.length > 0 ? <p>{plural(total, 'certificate')} from {plural(list.length, 'source')}.</p> : null}
      <ul className="cards" aria-label="Sources">
        {list.map((s) => {
          const p = progress[s.id];
          const running = p !== undefined || s.syncing === true || s.last_run?.status === 'running';
          const failure = s.last_run?.status === 'failed' ? errorText(s.last_run.error) : null;
          return (
            <li key={s.id} className="card">
              <h2>
                {s.id} <span className="muted">({s.provider})</span>
              </h2>
              <p>
                {s.enabled ? <Badge value={running ? 'running' : (s.last_run?.status ?? 'pending')} label={running ? 'syncing' : (s.last_run?.status ?? 'never synced')} /> : <Badge value="deleted" label="disabled" />}{' '}
                {plural(s.certificates ?? 0, 'certificate')}
              </p>
              <dl>
                <dt>Last sync</dt>
                <dd>{s.last_run ? <Link to={`/sync-runs/${s.last_run.id}`}>{formatInstant(s.last_run.finished_at ?? s.last_run.started_at)}</Link> : 'never'}</dd>
                <dt>Next sync</dt>
                <dd>{s.enabled ? formatInstant(s.next_sync_at ?? null) : 'disabled'}</dd>
              </dl>
              {failure === null ? null : <p className="error">Last sync failed: {failure}</p>}
              {s.last_run === null ? null : <RunWarnings warnings={s.last_run.warnings} label={`of the last sync of ${s.id}`} />}
              {p === undefined ? null : (
                <div className="progress-wrap">
                  <label htmlFor={`progress-${s.id}`}>
                    Syncing: {p.done.toLocaleString()}
                    {p.total === null ? '' : ` of ${p.total.toLocaleString()}`} ({p.created} new, {p.updated} changed)
                  </label>
                  <progress id={`progress-${s.id}`} max={p.total ?? undefined} value={p.total === null ? undefined : p.done} />
                </div>
              )}
              {props.admin && s.enabled ? (
                <button type="button" onClick={() => void syncNow(s)} disabled={running}>
                  Sync {s.id} now
                </button>
              ) : null}
            </li>
          );
        })}
      </ul>
    </Page>
  );
}
