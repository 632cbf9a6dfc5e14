import { useState, type FormEvent } from 'react';

export function SignIn(props: { onSignIn: (key: string) => Promise<void>; error: string | null }) {
  const [key, setKeyText] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    await props.onSignIn(key.trim());
    setBusy(false);
  }
  return (
    <main id="main" className="sign-in">
      <h1>Sign in to certhub</h1>
      <p>Paste an API key. It is kept for this browser tab only and forgotten when you close it.</p>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="chk_…"
          required
          value={key}
          onChange={(e) => setKeyText(e.target.value)}
          aria-describedby={props.error === null ? 'key-help' : 'key-help sign-in-error'}
        />
        <p id="key-help" className="muted">
          Create one with <code>certhub keys create --name me --role admin</code>.
        </p>
        {props.error === null ? null : (
          <p id="sign-in-error" className="error" role="alert">
            {props.error}
          </p>
        )}
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
