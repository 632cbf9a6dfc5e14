import { useState } from 'react';
import { api } from '../api.ts';
import { formatDay } from '../format.ts';
import { Link } from '../router.tsx';
import { Empty, ErrorNote, Loading, Notice, Page, useLoad } from '../ui.tsx';

interface SuggestedPerson {
  id: string;
  display_name: string | null;
  date_of_birth: string | null;
  emails?: string[];
  certificate_count?: number;
}

interface Suggestion {
  id: string;
  reason: string;
  status: string;
  people: SuggestedPerson[];
}

const REASONS: Record<string, string> = {
  same_name_dob: 'same name and date of birth',
  conflicting_dob: 'same email, different dates of birth',
};

function PersonCell(props: { p: SuggestedPerson | undefined }) {
  const p = props.p;
  if (p === undefined) return <td>—</td>;
  return (
    <td>
      <Link to={`/people/${p.id}`}>{p.display_name ?? '(no name)'}</Link>
      <div className="muted">
        {p.emails?.join(', ') || 'no email'} · born {formatDay(p.date_of_birth)} · {p.certificate_count ?? 0} certificates
      </div>
    </td>
  );
}

export function Suggestions(props: { admin: boolean }) {
  const list = useLoad(() => api<{ items: Suggestion[] }>('/v1/suggestions?status=open'), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function act(s: Suggestion, action: 'merge' | 'reject') {
    setError(null);
    try {
      await api(`/v1/suggestions/${s.id}/${action}`, { method: 'POST', body: {} });
      const names = s.people.map((p) => p.display_name ?? p.id).join(' and ');
      setNotice(action === 'merge' ? `Merged ${names}.` : `Kept ${names} apart.`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  }
  const items = list.data?.items ?? [];
  return (
    <Page title="Suggested matches">
      <p className="muted">People certhub thinks may be one person. Nothing is merged until you say so, and a merge can be undone.</p>
      <Notice text={notice} />
      <ErrorNote error={error ?? list.error} />
      {list.loading && list.data === null ? <Loading /> : null}
      {list.data !== null && items.length === 0 ? <Empty>No open suggestions.</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Open suggested matches</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">May be the same as</th>
              <th scope="col">Why</th>
              {props.admin ? <th scope="col">Decision</th> : null}
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id}>
                <PersonCell p={s.people[0]} />
                <PersonCell p={s.people[1]} />
                <td>{REASONS[s.reason] ?? s.reason.replace(/_/g, ' ')}</td>
                {props.admin ? (
                  <td className="row-actions">
                    <button type="button" onClick={() => void act(s, 'merge')}>
                      Merge<span className="visually-hidden"> {s.people.map((p) => p.display_name).join(' and ')}</span>
                    </button>
                    <button type="button" className="secondary" onClick={() => void act(s, 'reject')}>
                      Keep apart
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Page>
  );
}
