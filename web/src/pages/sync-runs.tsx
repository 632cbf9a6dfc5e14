import { api } from '../api.ts';
import { formatDuration, formatInstant } from '../format.ts';
import { Link } from '../router.tsx';
import { errorText, type RunDetail, type RunSummary } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Page, RunWarnings, useLoad } from '../ui.tsx';

function requests(run: RunDetail): number {
  return Object.values(run.requests_by_endpoint).reduce((a, b) => a + b, 0);
}

export function SyncRuns() {
  const runs = useLoad(() => api<{ items: RunSummary[] }>('/v1/sync-runs?limit=100'), []);
  const items = runs.data?.items ?? [];
  return (
    <Page title="Sync runs" actions={<button type="button" onClick={runs.reload}>Refresh</button>}>
      <ErrorNote error={runs.error} />
      {runs.loading && runs.data === null ? <Loading /> : null}
      {runs.data !== null && items.length === 0 ? <Empty>No sync has run yet.</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Sync runs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Source</th>
              <th scope="col">Status</th>
              <th scope="col">Duration</th>
              <th scope="col">New / changed / deleted</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/sync-runs/${r.id}`}>{formatInstant(r.started_at)}</Link>
                </td>
                <td>{r.source}</td>
                <td>
                  <Badge value={r.status} />
                  <RunWarnings warnings={r.warnings} label={`of the run of ${r.source}`} />
                </td>
                <td>{formatDuration(r.duration_ms)}</td>
                <td>{r.certificates ? `${r.certificates.created} / ${r.certificates.updated} / ${r.certificates.deleted}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Page>
  );
}

export function SyncRunPage(props: { id: string }) {
  const run = useLoad(() => api<RunDetail>(`/v1/sync-runs/${encodeURIComponent(props.id)}`), [props.id]);
  if (run.loading && run.data === null) return <Loading />;
  if (run.data === null) {
    return (
      <Page title="Sync run">
        <ErrorNote error={run.error} />
        <Link to="/sync-runs">Back to sync runs</Link>
      </Page>
    );
  }
  const r = run.data;
  const failure = errorText(r.error);
  return (
    <Page title={`Sync run of ${r.source}`} actions={<button type="button" onClick={run.reload}>Refresh</button>}>
      <p>
        <Badge value={r.status} /> started {formatInstant(r.started_at)}
        {r.finished_at ? `, finished ${formatInstant(r.finished_at)}` : ''}
      </p>
      {failure === null ? null : <p className="error">Error: {failure}</p>}
      {r.warnings.length === 0 ? null : (
        <>
          <h2>Warnings</h2>
          {r.status === 'succeeded' ? <p>The run succeeded, but could not do everything:</p> : null}
          <RunWarnings warnings={r.warnings} />
        </>
      )}
      {r.status === 'running' ? (
        <Empty>No report yet: the run is still going.</Empty>
      ) : (
        <>
          <dl className="facts">
            <dt>Duration</dt>
            <dd>{formatDuration(r.duration_ms)}</dd>
            <dt>Pages</dt>
            <dd>{r.pages ?? '—'}</dd>
            <dt>Certificates</dt>
            <dd>
              {r.certificates
                ? `${r.certificates.created} new, ${r.certificates.updated} changed, ${r.certificates.unchanged} unchanged, ${r.certificates.deleted} deleted`
                : '—'}
            </dd>
            <dt>Requests</dt>
            <dd>{requests(r)}</dd>
            <dt>Rate limited (429)</dt>
            <dd>{r.throttled_429}</dd>
            <dt>Retries</dt>
            <dd>{r.retries}</dd>
          </dl>
          <h2>Requests by endpoint</h2>
          <table>
            <caption className="visually-hidden">Requests by endpoint</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Requests</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(r.requests_by_endpoint).map(([endpoint, count]) => (
                <tr key={endpoint}>
                  <td>
                    <code>{endpoint}</code>
                  </td>
                  <td>{count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <p>
        <Link to="/sync-runs">Back to sync runs</Link>
      </p>
    </Page>
  );
}
