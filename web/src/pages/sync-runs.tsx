import { api } from '../api.ts';
import { formatDuration, formatInstant } from '../format.ts';
import { Link } from '../router.tsx';
import { errorText, type RunReport, type RunSummary } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Page, useLoad } from '../ui.tsx';

function requests(report: RunReport | null | undefined): number {
  return Object.values(report?.requests_by_endpoint ?? {}).reduce((a, b) => a + b, 0);
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
              <th scope="col">Requests</th>
              <th scope="col">429s</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/sync-runs/${r.id}`}>{formatInstant(r.started_at)}</Link>
                </td>
                <td>{r.source ?? r.source_id}</td>
                <td>
                  <Badge value={r.status} />
                </td>
                <td>{formatDuration(r.report?.duration_ms)}</td>
                <td>
                  {r.report?.certificates
                    ? `${r.report.certificates.created} / ${r.report.certificates.updated} / ${r.report.certificates.deleted}`
                    : '—'}
                </td>
                <td>{r.report ? requests(r.report) : '—'}</td>
                <td>{r.report?.throttled_429 ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Page>
  );
}

export function SyncRunPage(props: { id: string }) {
  const run = useLoad(() => api<RunSummary>(`/v1/sync-runs/${encodeURIComponent(props.id)}`), [props.id]);
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
  const report = r.report ?? null;
  const failure = errorText(r.error ?? report?.error ?? null);
  return (
    <Page title={`Sync run of ${r.source ?? r.source_id ?? ''}`} actions={<button type="button" onClick={run.reload}>Refresh</button>}>
      <p>
        <Badge value={r.status} /> started {formatInstant(r.started_at)}
        {r.finished_at ? `, finished ${formatInstant(r.finished_at)}` : ''}
      </p>
      {failure === null ? null : <p className="error">Error: {failure}</p>}
      {report === null ? (
        <Empty>No report yet: the run is still going.</Empty>
      ) : (
        <>
          <dl className="facts">
            <dt>Duration</dt>
            <dd>{formatDuration(report.duration_ms)}</dd>
            <dt>Pages</dt>
            <dd>{report.pages ?? '—'}</dd>
            <dt>Certificates</dt>
            <dd>
              {report.certificates
                ? `${report.certificates.created} new, ${report.certificates.updated} changed, ${report.certificates.unchanged} unchanged, ${report.certificates.deleted} deleted`
                : '—'}
            </dd>
            <dt>Requests</dt>
            <dd>{requests(report)}</dd>
            <dt>Rate limited (429)</dt>
            <dd>{report.throttled_429 ?? 0}</dd>
            <dt>Retries</dt>
            <dd>{report.retries ?? 0}</dd>
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
              {Object.entries(report.requests_by_endpoint ?? {}).map(([endpoint, count]) => (
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
