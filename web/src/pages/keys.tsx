import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { formatInstant } from '../format.ts';
import { Badge, Empty, ErrorNote, Loading, Notice, Page, useLoad } from '../ui.tsx';

interface ApiKey {
  id: string;
  name: string;
  role: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export function Keys(props: { admin: boolean }) {
  const keys = useLoad(() => (props.admin ? api<{ items: ApiKey[] }>('/v1/keys') : Promise.resolve({ items: [] })), [props.admin]);
  const [name, setName] = useState('');
  const [role, setRole] = useState('read');
  const [created, setCreated] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  if (!props.admin) {
    return (
      <Page title="API keys">
        <p>Only admin keys can manage API keys.</p>
      </Page>
    );
  }
  async function create(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const key = await api<ApiKey & { key: string }>('/v1/keys', { method: 'POST', body: { name: name.trim(), role } });
      setCreated(key.key);
      setName('');
      keys.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function revoke(k: ApiKey) {
    if (!window.confirm(`Revoke the key “${k.name}”? Anything using it stops working at once.`)) return;
    try {
      await api(`/v1/keys/${k.id}`, { method: 'DELETE' });
      setNotice(`Revoked ${k.name}.`);
      keys.reload();
    } catch (err) {
      setError(err);
    }
  }
  const items = keys.data?.items ?? [];
  return (
    <Page title="API keys">
      <form onSubmit={(e) => void create(e)} className="panel" aria-label="New API key">
        <label htmlFor="key-name">Name (what the key is for)</label>
        <input id="key-name" required value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="key-role">Role</label>
        <select id="key-role" value={role} onChange={(e) => setRole(e.target.value)}>
          <option value="read">read: look up and check status</option>
          <option value="admin">admin: everything</option>
        </select>
        <button type="submit">Create key</button>
      </form>
      {created === null ? null : (
        <div className="panel" role="status">
          <p>
            <strong>Copy this key now; it is not shown again.</strong>
          </p>
          <label htmlFor="new-key">New key</label>
          <input id="new-key" readOnly value={created} onFocus={(e) => e.target.select()} />
        </div>
      )}
      <Notice text={notice} />
      <ErrorNote error={error ?? keys.error} />
      {keys.loading && keys.data === null ? <Loading /> : null}
      {keys.data !== null && items.length === 0 ? <Empty>No keys.</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key starts with</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {items.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.role}</td>
                <td>{formatInstant(k.created_at)}</td>
                <td>{formatInstant(k.last_used_at)}</td>
                <td>
                  {k.revoked_at === null ? (
                    <button type="button" className="danger" onClick={() => void revoke(k)}>
                      Revoke<span className="visually-hidden"> {k.name}</span>
                    </button>
                  ) : (
                    <Badge value="revoked" label={`revoked ${formatInstant(k.revoked_at)}`} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Page>
  );
}
