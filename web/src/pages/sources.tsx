import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { formatInstant, plural } from '../format.ts';
import { Link } from '../router.tsx';
import type { ProviderView, SourceView } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Notice, Page, RunWarnings, useLoad } from '../ui.tsx';

/** What the add-source form asks for one provider (GET /v1/providers); secrets are write-only (never shown again). */
function bodyOf(provider: ProviderView, id: string, values: Record<string, string>, syncEvery: string): Record<string, unknown> {
  const body: Record<string, unknown> = { id, provider: provider.id };
  for (const f of provider.settings) {
    const v = values[f.name]?.trim() ?? '';
    if (v === '' && f.optional) continue;
    const path = f.name.split('.');
    let target = body;
    for (const key of path.slice(0, -1)) {
      const child = target[key];
      target = (target[key] = typeof child === 'object' && child !== null ? child : {}) as Record<string, unknown>;
    }
    target[path.at(-1)!] = v;
  }
  if (syncEvery.trim() !== '') body.sync_every = syncEvery.trim();
  return body;
}

function AddSource(props: { providers: ProviderView[]; onAdded: (s: SourceView) => void }) {
  const [providerId, setProvider] = useState(props.providers[0]?.id ?? '');
  const provider = props.providers.find((p) => p.id === providerId) ?? props.providers[0];
  const [id, setId] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [syncEvery, setSyncEvery] = useState('1h');
  const [error, setError] = useState<unknown>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (provider === undefined) return;
    try {
      const created = await api<SourceView>('/v1/sources', { method: 'POST', body: bodyOf(provider, id.trim(), values, syncEvery) });
      setValues({});
      setId('');
      props.onAdded(created);
    } catch (err) {
      setError(err);
    }
  }
  return (
    <form className="panel" aria-label="Add a source" onSubmit={(e) => void submit(e)}>
      <label htmlFor="src-provider">Provider</label>
      <select id="src-provider" value={provider?.id ?? ''} onChange={(e) => setProvider(e.target.value)}>
        {props.providers.map((p) => (
          <option key={p.id} value={p.id}>
            {p.title}
          </option>
        ))}
      </select>
      <label htmlFor="src-id">Source id (lower case letters, digits and dashes)</label>
      <input id="src-id" required pattern="[a-z0-9][a-z0-9-]*" value={id} onChange={(e) => setId(e.target.value)} placeholder={`${provider?.id ?? 'source'}-main`} />
      {(provider?.settings ?? []).map((f) => (
        <div key={`${provider?.id ?? ''}-${f.name}`}>
          <label htmlFor={`src-${f.name}`}>
            {f.label}
            {f.optional ? ' (optional)' : ''}
          </label>
          <input
            id={`src-${f.name}`}
            type={f.secret ? 'password' : 'text'}
            autoComplete={f.secret ? 'new-password' : 'off'}
            required={!f.optional}
            placeholder={f.placeholder ?? undefined}
            value={values[f.name] ?? ''}
            onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
          />
        </div>
      ))}
      <label htmlFor="src-every">Sync every</label>
      <input id="src-every" value={syncEvery} onChange={(e) => setSyncEvery(e.target.value)} placeholder="15m" />
      <p className="muted">Credentials are stored encrypted and never shown again.</p>
      <ErrorNote error={error} />
      <button type="submit">Add source</button>
    </form>
  );
}

export function Sources(props: { admin: boolean }) {
  const list = useLoad(() => api<{ items: SourceView[] }>('/v1/sources'), []);
  const providers = useLoad(() => api<{ items: ProviderView[] }>('/v1/providers'), []);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function act(s: SourceView, what: 'test' | 'sync' | 'enable' | 'disable') {
    setError(null);
    try {
      if (what === 'test') {
        const r = await api<{ ok: boolean; latency_ms?: number; error?: { message: string } }>(`/v1/sources/${s.id}/test`, { method: 'POST', body: {} });
        setNotice(r.ok ? `${s.id}: connection works (${r.latency_ms ?? '?'} ms).` : `${s.id}: connection failed: ${r.error?.message ?? 'unknown error'}`);
      } else if (what === 'sync') {
        await api(`/v1/sources/${s.id}/sync`, { method: 'POST', body: {} });
        setNotice(`Sync of ${s.id} started; follow it on the overview.`);
      } else {
        await api(`/v1/sources/${s.id}`, { method: 'PATCH', body: { enabled: what === 'enable' } });
        setNotice(`${s.id} ${what}d.`);
      }
      list.reload();
    } catch (err) {
      setError(err);
    }
  }

  const items = list.data?.items ?? [];
  return (
    <Page
      title="Sources"
      actions={
        props.admin ? (
          <button type="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
            {adding ? 'Cancel' : 'Add a source'}
          </button>
        ) : null
      }
    >
      {adding && providers.data !== null ? (
        <AddSource
          providers={providers.data.items}
          onAdded={(s) => {
            setAdding(false);
            setNotice(`Added ${s.id}.`);
            list.reload();
          }}
        />
      ) : null}
      <Notice text={notice} />
      <ErrorNote error={error ?? list.error ?? providers.error} />
      {list.loading && list.data === null ? <Loading /> : null}
      {list.data !== null && items.length === 0 ? <Empty>No sources yet.</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Sources</caption>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Provider</th>
              <th scope="col">State</th>
              <th scope="col">Certificates</th>
              <th scope="col">Last sync</th>
              {props.admin ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id}>
                <td>
                  {s.id}
                  <div className="muted">{typeof s.settings.base_url === 'string' ? s.settings.base_url : ''}</div>
                </td>
                <td>{s.provider}</td>
                <td>{s.enabled ? <Badge value="valid" label="enabled" /> : <Badge value="deleted" label="disabled" />}</td>
                <td>{plural(s.certificates ?? 0, 'certificate')}</td>
                <td>
                  {s.last_run ? <Link to={`/sync-runs/${s.last_run.id}`}>{formatInstant(s.last_run.started_at)}</Link> : 'never'}
                  {s.last_run === null ? null : <RunWarnings warnings={s.last_run.warnings} label={`of the last sync of ${s.id}`} />}
                </td>
                {props.admin ? (
                  <td className="row-actions">
                    <button type="button" className="secondary" onClick={() => void act(s, 'test')}>
                      Test connection<span className="visually-hidden"> of {s.id}</span>
                    </button>
                    {s.enabled ? (
                      <button type="button" onClick={() => void act(s, 'sync')}>
                        Sync now<span className="visually-hidden"> {s.id}</span>
                      </button>
                    ) : null}
                    <button type="button" className="secondary" onClick={() => void act(s, s.enabled ? 'disable' : 'enable')}>
                      {s.enabled ? 'Disable' : 'Enable'}
                      <span className="visually-hidden"> {s.id}</span>
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
