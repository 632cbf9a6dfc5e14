import { useEffect, useState } from 'react';
import { api, download } from '../api.ts';
import { formatDay, formatInstant } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { Certificate, PushRuleView } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Notice, Page, useLoad } from '../ui.tsx';
import { CertificatePushes } from './push-log.tsx';

interface PersonSummary {
  id: string;
  display_name: string | null;
  date_of_birth: string | null;
  emails?: string[];
  has_national_id?: boolean;
  certificate_count?: number;
}

interface Identity {
  kind: string;
  value: string | null;
  source: string | null;
  matched_by: string;
  created_at: string;
}

interface ComplianceEntry {
  requirement_id: string;
  requirement_name: string;
  state: string;
  valid_until: string | null;
  certificate_id: string | null;
}

interface PersonPage extends PersonSummary {
  merged_into: string | null;
  identities: Identity[];
  certificates: Certificate[];
  compliance: ComplianceEntry[];
}

interface Version {
  version: number;
  recorded_at: string;
  status: string;
  valid_from: string | null;
  valid_until: string | null;
  achievement: { title: string | null; code: string | null };
}

export function People() {
  const { query } = useLocation();
  const [q, setQ] = useState(query.get('q') ?? '');
  const [debounced, setDebounced] = useState(q);
  useEffect(() => {
    const t = setTimeout(() => {
      setDebounced(q.trim());
      history.replaceState(null, '', q.trim() === '' ? '/people' : `/people?q=${encodeURIComponent(q.trim())}`);
    }, 200);
    return () => clearTimeout(t);
  }, [q]);
  const people = useLoad(
    () => api<{ items: PersonSummary[] }>(`/v1/people?limit=50${debounced === '' ? '' : `&q=${encodeURIComponent(debounced)}`}`),
    [debounced],
  );
  const items = people.data?.items ?? [];
  return (
    <Page title="People">
      <form role="search" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="people-q">Search by name, email or national id number</label>
        <input id="people-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} autoComplete="off" placeholder="e.g. Kari or kari@example.com" />
      </form>
      <ErrorNote error={people.error} />
      <p role="status" aria-live="polite" className="muted">
        {people.loading ? 'Searching…' : `${items.length}${items.length === 50 ? '+' : ''} ${items.length === 1 ? 'person' : 'people'}${debounced ? ` matching “${debounced}”` : ''}`}
      </p>
      {!people.loading && items.length === 0 ? <Empty>No one matches. Try part of a name or an email address.</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">People</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Date of birth</th>
              <th scope="col">Certificates</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link to={`/people/${p.id}`}>{p.display_name ?? p.emails?.[0] ?? '(no name)'}</Link>
                </td>
                <td>{p.emails?.join(', ') || '—'}</td>
                <td>{formatDay(p.date_of_birth)}</td>
                <td>{p.certificate_count ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Page>
  );
}

function History(props: { id: string }) {
  const versions = useLoad(() => api<{ items: Version[] }>(`/v1/certificates/${props.id}/history`), [props.id]);
  if (versions.loading) return <Loading />;
  if (versions.error !== null) return <ErrorNote error={versions.error} />;
  return (
    <ol className="history">
      {(versions.data?.items ?? []).map((v) => (
        <li key={v.version}>
          Version {v.version}, recorded {formatInstant(v.recorded_at)}: <Badge value={v.status} />, valid {formatDay(v.valid_from)} to{' '}
          {v.valid_until === null ? 'no end date' : formatDay(v.valid_until)}
        </li>
      ))}
    </ol>
  );
}

function CertificateRow(props: { cert: Certificate; admin: boolean; rules: readonly PushRuleView[]; onError: (e: unknown) => void; onDone: (t: string) => void }) {
  const c = props.cert;
  const [open, setOpen] = useState(false);
  const title = c.achievement.title ?? c.achievement.code ?? c.achievement.external_id;
  async function file(view: boolean) {
    try {
      await download(`/v1/certificates/${c.id}/file`, `${(c.achievement.code ?? title).replace(/[^A-Za-z0-9._-]+/g, '_')}.pdf`, {
        accept: 'application/pdf',
        open: view,
      });
      props.onDone(view ? `Opened the PDF of ${title}.` : `Downloaded the PDF of ${title}.`);
    } catch (err) {
      props.onError(err);
    }
  }
  return (
    <li className="timeline-item">
      <div>
        <strong>{title}</strong> {c.achievement.code !== null && c.achievement.code !== title ? <span className="muted">({c.achievement.code})</span> : null}{' '}
        <Badge value={c.validity} />
      </div>
      <div className="muted">
        {c.provider} · {c.source} · issued {formatInstant(c.issued_at)} · valid {formatDay(c.valid_from)} to{' '}
        {c.valid_until === null ? 'no end date' : formatDay(c.valid_until)}
      </div>
      <div className="row-actions">
        {c.file.available ? (
          <>
            <button type="button" onClick={() => void file(false)}>
              Download PDF<span className="visually-hidden"> of {title}</span>
            </button>
            <button type="button" className="secondary" onClick={() => void file(true)}>
              View PDF<span className="visually-hidden"> of {title}</span>
            </button>
          </>
        ) : (
          <span className="muted">No PDF</span>
        )}
        <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide' : 'Show'} history<span className="visually-hidden"> of {title}</span>
        </button>
      </div>
      {open ? <History id={c.id} /> : null}
      <CertificatePushes certificateId={c.id} admin={props.admin} rules={props.rules} />
    </li>
  );
}

export function Person(props: { id: string; admin: boolean }) {
  const page = useLoad(() => api<PersonPage>(`/v1/people/${encodeURIComponent(props.id)}`), [props.id]);
  // The rules name where each certificate's pushes went; a certificate's own pushes are asked per certificate.
  const rules = useLoad(() => api<{ items: PushRuleView[] }>('/v1/push-rules'), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  if (page.loading && page.data === null) return <Loading />;
  if (page.error !== null || page.data === null) {
    return (
      <Page title="Person">
        <ErrorNote error={page.error} />
        <Link to="/people">Back to people</Link>
      </Page>
    );
  }
  const person = page.data;
  const { identities, certificates, compliance } = page.data;
  const sorted = [...certificates].sort((a, b) => (b.issued_at ?? '').localeCompare(a.issued_at ?? ''));
  return (
    <Page title={person.display_name ?? person.emails?.[0] ?? identities.find((i) => i.kind === 'email')?.value ?? 'Person'}>
      <Notice text={notice} />
      <ErrorNote error={error} />
      {person.merged_into ? (
        <p className="notice-box">
          This person was merged into <Link to={`/people/${person.merged_into}`}>another person</Link>.
        </p>
      ) : null}
      <p className="muted">Date of birth: {formatDay(person.date_of_birth)}</p>
      <h2>Compliance</h2>
      {compliance.length === 0 ? (
        <Empty>
          No requirements yet. <Link to="/requirements">Define one</Link> to see who is compliant.
        </Empty>
      ) : (
        <table>
          <caption className="visually-hidden">Compliance per requirement</caption>
          <thead>
            <tr>
              <th scope="col">Requirement</th>
              <th scope="col">State</th>
              <th scope="col">Valid until</th>
            </tr>
          </thead>
          <tbody>
            {compliance.map((c) => (
              <tr key={c.requirement_id}>
                <td>
                  <Link to={`/requirements/${c.requirement_id}`}>{c.requirement_name}</Link>
                </td>
                <td>
                  <Badge value={c.state} />
                </td>
                <td>{c.valid_until === null ? (c.state === 'missing' ? '—' : 'no end date') : formatDay(c.valid_until)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Certificates</h2>
      {sorted.length === 0 ? <Empty>No certificates.</Empty> : null}
      <ol className="timeline">
        {sorted.map((c) => (
          <CertificateRow key={c.id} cert={c} admin={props.admin} rules={rules.data?.items ?? []} onError={setError} onDone={setNotice} />
        ))}
      </ol>
      <h2>Identities</h2>
      <table>
        <caption className="visually-hidden">Identities and how they were matched</caption>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Value</th>
            <th scope="col">Source</th>
            <th scope="col">Matched by</th>
          </tr>
        </thead>
        <tbody>
          {identities.map((i, n) => (
            <tr key={n}>
              <td>{i.kind.replace(/_/g, ' ')}</td>
              <td>{i.kind === 'national_id' ? '(on file, hidden)' : (i.value ?? '—')}</td>
              <td>{i.source ?? 'all sources'}</td>
              <td>{i.matched_by.replace(/_/g, ' ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <button type="button" className="link" onClick={() => navigate('/people')}>
          Back to people
        </button>
      </p>
    </Page>
  );
}
