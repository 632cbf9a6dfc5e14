import { useEffect, useState, type FormEvent } from 'react';
import { api, download } from '../api.ts';
import { formatDay } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { Badge, Empty, ErrorNote, Loading, Notice, Page, useLoad } from '../ui.tsx';
import type { ProviderView } from '../types.ts';

interface Matcher {
  provider?: string;
  source?: string;
  type?: string;
  external_id?: string;
  code?: string;
}

interface Requirement {
  id: string;
  name: string;
  description: string | null;
  rule: { any_of: Matcher[]; valid_months_without_end: number | null; warn_days: number };
}

interface ComplianceRow {
  person_id: string;
  name: string | null;
  email: string | null;
  state: string;
  valid_until: string | null;
  certificate: { id: string; source: string; achievement: { title: string | null; code: string | null } } | null;
}

interface Compliance {
  items: ComplianceRow[];
  summary: { compliant: number; expiring: number; expired: number; missing: number; total: number };
  next_cursor: string | null;
}


function describeMatcher(m: Matcher): string {
  const what = [m.code, m.external_id].filter(Boolean).join(' / ');
  return `${m.provider ?? m.source ?? 'any provider'} ${m.type ?? 'achievement'} ${what}`;
}

function RequirementForm(props: { initial?: Requirement; onSaved: (r: Requirement) => void }) {
  const init = props.initial;
  const [name, setName] = useState(init?.name ?? '');
  const [description, setDescription] = useState(init?.description ?? '');
  const providers = useLoad(() => api<{ items: ProviderView[] }>('/v1/providers'), []);
  const [rows, setRows] = useState<Matcher[]>(init?.rule.any_of ?? [{ code: '' }]);
  // A new requirement's first matcher names the first provider, once the list of them is in.
  const firstProvider = providers.data?.items[0]?.id;
  useEffect(() => {
    if (init === undefined && firstProvider !== undefined) setRows((rs) => (rs.length === 1 && rs[0]?.provider === undefined && !rs[0]?.code ? [{ ...rs[0], provider: firstProvider }] : rs));
  }, [firstProvider, init]);
  const [months, setMonths] = useState(init?.rule.valid_months_without_end?.toString() ?? '');
  const [warn, setWarn] = useState(init?.rule.warn_days.toString() ?? '30');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  function update(i: number, patch: Matcher) {
    setRows(rows.map((r, n) => (n === i ? { ...r, ...patch } : r)));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const any_of = rows.map((r) => {
      const m: Matcher = {};
      if (r.provider) m.provider = r.provider;
      if (r.code?.trim()) m.code = r.code.trim();
      if (r.external_id?.trim()) m.external_id = r.external_id.trim();
      return m;
    });
    const body = {
      name: name.trim(),
      description: description.trim() === '' ? null : description.trim(),
      rule: { any_of, valid_months_without_end: months.trim() === '' ? null : Number(months), warn_days: Number(warn) },
    };
    try {
      const saved = init
        ? await api<Requirement>(`/v1/requirements/${init.id}`, { method: 'PATCH', body })
        : await api<Requirement>('/v1/requirements', { method: 'POST', body });
      props.onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const prefix = init ? 'edit' : 'new';
  return (
    <form onSubmit={(e) => void submit(e)} className="panel" aria-label={init ? 'Edit requirement' : 'New requirement'}>
      <label htmlFor={`${prefix}-name`}>Name</label>
      <input id={`${prefix}-name`} required value={name} onChange={(e) => setName(e.target.value)} placeholder="Safety training" />
      <label htmlFor={`${prefix}-description`}>Description (optional)</label>
      <input id={`${prefix}-description`} value={description} onChange={(e) => setDescription(e.target.value)} />
      <fieldset>
        <legend>Any one of these certificates satisfies it</legend>
        {rows.map((r, i) => (
          <div className="matcher" key={i}>
            <label htmlFor={`${prefix}-provider-${i}`}>Provider</label>
            <select id={`${prefix}-provider-${i}`} value={r.provider ?? ''} onChange={(e) => update(i, { provider: e.target.value || undefined })}>
              <option value="">Any provider</option>
              {(providers.data?.items ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.title}
                </option>
              ))}
            </select>
            <label htmlFor={`${prefix}-code-${i}`}>Code</label>
            <input id={`${prefix}-code-${i}`} value={r.code ?? ''} onChange={(e) => update(i, { code: e.target.value })} placeholder="SAFE-101" />
            <label htmlFor={`${prefix}-ext-${i}`}>or provider id</label>
            <input id={`${prefix}-ext-${i}`} value={r.external_id ?? ''} onChange={(e) => update(i, { external_id: e.target.value })} placeholder="42" />
            {rows.length > 1 ? (
              <button type="button" className="secondary" onClick={() => setRows(rows.filter((_, n) => n !== i))}>
                Remove<span className="visually-hidden"> achievement {i + 1}</span>
              </button>
            ) : null}
          </div>
        ))}
        <button type="button" className="secondary" onClick={() => setRows([...rows, { code: '' }])}>
          Add another achievement
        </button>
      </fieldset>
      <label htmlFor={`${prefix}-months`}>Valid for (months) when a certificate has no end date; empty: for ever</label>
      <input id={`${prefix}-months`} type="number" min={1} max={1200} value={months} onChange={(e) => setMonths(e.target.value)} />
      <label htmlFor={`${prefix}-warn`}>Warn this many days before the end</label>
      <input id={`${prefix}-warn`} type="number" min={0} max={3650} required value={warn} onChange={(e) => setWarn(e.target.value)} />
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>
        {init ? 'Save changes' : 'Create requirement'}
      </button>
    </form>
  );
}

export function Requirements(props: { admin: boolean }) {
  const list = useLoad(() => api<{ items: Requirement[] }>('/v1/requirements'), []);
  const [creating, setCreating] = useState(false);
  const items = list.data?.items ?? [];
  return (
    <Page
      title="Requirements"
      actions={
        props.admin ? (
          <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
            {creating ? 'Cancel' : 'New requirement'}
          </button>
        ) : null
      }
    >
      {creating ? <RequirementForm onSaved={(r) => navigate(`/requirements/${r.id}`)} /> : null}
      <ErrorNote error={list.error} />
      {list.loading && list.data === null ? <Loading /> : null}
      {list.data !== null && items.length === 0 ? (
        <Empty>No requirements yet. {props.admin ? 'Create one to see who is compliant.' : 'An admin can create one.'}</Empty>
      ) : null}
      <ul className="cards" aria-label="Requirements">
        {items.map((r) => (
          <li key={r.id} className="card">
            <h2>
              <Link to={`/requirements/${r.id}`}>{r.name}</Link>
            </h2>
            {r.description ? <p>{r.description}</p> : null}
            <p className="muted">
              Any of: {r.rule.any_of.map(describeMatcher).join('; ')}.{' '}
              {r.rule.valid_months_without_end === null ? '' : `Valid ${r.rule.valid_months_without_end} months without an end date. `}
              Warn {r.rule.warn_days} days before.
            </p>
          </li>
        ))}
      </ul>
    </Page>
  );
}

const STATES = ['compliant', 'expiring', 'expired', 'missing'];

export function RequirementPage(props: { id: string; admin: boolean }) {
  const req = useLoad(() => api<Requirement>(`/v1/requirements/${encodeURIComponent(props.id)}`), [props.id]);
  const [state, setState] = useState('');
  const table = useLoad(
    () => api<Compliance>(`/v1/requirements/${encodeURIComponent(props.id)}/compliance?limit=500${state ? `&state=${state}` : ''}`),
    [props.id, state],
  );
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function exportCsv() {
    try {
      await download(`/v1/requirements/${props.id}/compliance?format=csv${state ? `&state=${state}` : ''}`, `${req.data?.name ?? 'compliance'}.csv`, {
        accept: 'text/csv',
      });
      setNotice('CSV downloaded.');
    } catch (err) {
      setError(err);
    }
  }

  async function remove() {
    if (!window.confirm(`Delete the requirement “${req.data?.name}”?`)) return;
    try {
      await api(`/v1/requirements/${props.id}`, { method: 'DELETE' });
      navigate('/requirements');
    } catch (err) {
      setError(err);
    }
  }

  if (req.loading && req.data === null) return <Loading />;
  if (req.data === null) {
    return (
      <Page title="Requirement">
        <ErrorNote error={req.error} />
        <Link to="/requirements">Back to requirements</Link>
      </Page>
    );
  }
  const s = table.data?.summary;
  return (
    <Page
      title={req.data.name}
      actions={
        <>
          <button type="button" onClick={() => void exportCsv()}>
            Export CSV
          </button>
          {props.admin ? (
            <>
              <button type="button" className="secondary" aria-expanded={editing} onClick={() => setEditing(!editing)}>
                {editing ? 'Cancel editing' : 'Edit'}
              </button>
              <button type="button" className="danger" onClick={() => void remove()}>
                Delete
              </button>
            </>
          ) : null}
        </>
      }
    >
      <Notice text={notice} />
      <ErrorNote error={error ?? table.error} />
      {req.data.description ? <p>{req.data.description}</p> : null}
      <p className="muted">Any of: {req.data.rule.any_of.map(describeMatcher).join('; ')}.</p>
      {editing ? (
        <RequirementForm
          initial={req.data}
          onSaved={() => {
            setEditing(false);
            setNotice('Requirement saved.');
            req.reload();
            table.reload();
          }}
        />
      ) : null}
      {s ? (
        <p aria-label="Summary" className="summary">
          <Badge value="compliant" label={`${s.compliant} compliant`} /> <Badge value="expiring" label={`${s.expiring} expiring`} />{' '}
          <Badge value="expired" label={`${s.expired} expired`} /> <Badge value="missing" label={`${s.missing} missing`} /> of {s.total}
        </p>
      ) : null}
      <label htmlFor="state-filter">Show</label>
      <select id="state-filter" value={state} onChange={(e) => setState(e.target.value)}>
        <option value="">everyone</option>
        {STATES.map((x) => (
          <option key={x} value={x}>
            {x}
          </option>
        ))}
      </select>
      {table.loading && table.data === null ? <Loading /> : null}
      {table.data !== null && table.data.items.length === 0 ? <Empty>No one in this view.</Empty> : null}
      {table.data !== null && table.data.items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Compliance with {req.data.name}</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Email</th>
              <th scope="col">State</th>
              <th scope="col">Valid until</th>
              <th scope="col">Certificate</th>
            </tr>
          </thead>
          <tbody>
            {table.data.items.map((row) => (
              <tr key={row.person_id}>
                <td>
                  <Link to={`/people/${row.person_id}`}>{row.name ?? row.email ?? '(no name)'}</Link>
                </td>
                <td>{row.email ?? '—'}</td>
                <td>
                  <Badge value={row.state} />
                </td>
                <td>{row.certificate === null ? '—' : row.valid_until === null ? 'no end date' : formatDay(row.valid_until)}</td>
                <td>{row.certificate === null ? '—' : `${row.certificate.achievement.title ?? row.certificate.achievement.code ?? ''} (${row.certificate.source})`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {table.data?.next_cursor ? <p className="muted">Showing the first 500; export CSV for everyone.</p> : null}
    </Page>
  );
}
