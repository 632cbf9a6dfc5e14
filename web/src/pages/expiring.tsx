import { useState } from 'react';
import { api, download } from '../api.ts';
import { formatDay } from '../format.ts';
import { Link } from '../router.tsx';
import { Empty, ErrorNote, Loading, Notice, Page, useLoad } from '../ui.tsx';

interface ExpiringRow {
  certificate: {
    id: string;
    source: string;
    provider: string;
    achievement: { title: string | null; code: string | null };
    valid_until: string | null;
  };
  valid_until: string;
  person: { id: string; name: string | null; email: string | null } | null;
}

export function Expiring() {
  const [days, setDays] = useState('30');
  const n = /^\d+$/.test(days) && Number(days) >= 1 && Number(days) <= 3650 ? Number(days) : null;
  const report = useLoad(
    () => (n === null ? Promise.resolve(null) : api<{ items: ExpiringRow[] }>(`/v1/reports/expiring?days=${n}&limit=1000`)),
    [n],
  );
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const items = report.data?.items ?? [];
  async function exportCsv() {
    try {
      await download(`/v1/reports/expiring?days=${n ?? 30}&format=csv`, `expiring-${n ?? 30}-days.csv`, { accept: 'text/csv' });
      setNotice('CSV downloaded.');
    } catch (err) {
      setError(err);
    }
  }
  return (
    <Page
      title="Expiring"
      actions={
        <button type="button" onClick={() => void exportCsv()} disabled={n === null}>
          Export CSV
        </button>
      }
    >
      <Notice text={notice} />
      <label htmlFor="days">Certificates ending within the next (days)</label>
      <input id="days" type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} aria-invalid={n === null} />
      {n === null ? (
        <p className="error" role="alert">
          Enter a number of days from 1 to 3650.
        </p>
      ) : null}
      <ErrorNote error={error ?? report.error} />
      {report.loading ? <Loading /> : null}
      {!report.loading && report.data !== null && items.length === 0 ? <Empty>Nothing ends in the next {n} days.</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Certificates ending within {n} days</caption>
          <thead>
            <tr>
              <th scope="col">Ends</th>
              <th scope="col">Person</th>
              <th scope="col">Certificate</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.certificate.id}>
                <td>{formatDay(r.valid_until)}</td>
                <td>{r.person === null ? '—' : <Link to={`/people/${r.person.id}`}>{r.person.name ?? r.person.email ?? '(no name)'}</Link>}</td>
                <td>{r.certificate.achievement.title ?? r.certificate.achievement.code}</td>
                <td>{r.certificate.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Page>
  );
}
