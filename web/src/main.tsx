import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, ApiError, getKey, setKey } from './api.ts';
import { Link, match, navigate, useLocation } from './router.tsx';
import { Overview } from './pages/overview.tsx';
import { People, Person } from './pages/people.tsx';
import { Requirements, RequirementPage } from './pages/requirements.tsx';
import { Expiring } from './pages/expiring.tsx';
import { SyncRuns, SyncRunPage } from './pages/sync-runs.tsx';
import { Suggestions } from './pages/suggestions.tsx';
import { Keys } from './pages/keys.tsx';
import { Sources } from './pages/sources.tsx';
import { Webhooks } from './pages/webhooks.tsx';
import { PushRules, PushRulePage } from './pages/push-rules.tsx';
import { CertificatePage } from './pages/certificate.tsx';
import { SignIn } from './pages/sign-in.tsx';
import './styles.css';

export interface Me {
  key: { id: string; name: string; role: 'read' | 'admin'; prefix: string };
  tenant: { id: string; slug: string; name: string };
}

const NAV: Array<{ to: string; label: string; admin?: boolean }> = [
  { to: '/', label: 'Overview' },
  { to: '/people', label: 'People' },
  { to: '/requirements', label: 'Requirements' },
  { to: '/expiring', label: 'Expiring' },
  { to: '/sync-runs', label: 'Sync runs' },
  { to: '/suggestions', label: 'Suggested matches' },
  { to: '/sources', label: 'Sources' },
  { to: '/webhooks', label: 'Webhooks', admin: true },
  { to: '/push-rules', label: 'Push rules' },
  { to: '/keys', label: 'API keys', admin: true },
];

function Routes(props: { me: Me }) {
  const { path } = useLocation();
  const admin = props.me.key.role === 'admin';
  let p: Record<string, string> | null;
  if (path === '/') return <Overview admin={admin} />;
  if (path === '/people') return <People />;
  if ((p = match('/people/:id', path))) return <Person id={p.id!} admin={admin} />;
  if (path === '/requirements') return <Requirements admin={admin} />;
  if ((p = match('/requirements/:id', path))) return <RequirementPage id={p.id!} admin={admin} />;
  if (path === '/expiring') return <Expiring />;
  if (path === '/sync-runs') return <SyncRuns />;
  if ((p = match('/sync-runs/:id', path))) return <SyncRunPage id={p.id!} />;
  if (path === '/suggestions') return <Suggestions admin={admin} />;
  if (path === '/sources') return <Sources admin={admin} />;
  if (path === '/webhooks') return <Webhooks admin={admin} />;
  if (path === '/push-rules') return <PushRules admin={admin} />;
  if ((p = match('/push-rules/:id', path))) return <PushRulePage id={p.id!} admin={admin} />;
  if ((p = match('/certificates/:id', path))) return <CertificatePage id={p.id!} admin={admin} />;
  if (path === '/keys') return <Keys admin={admin} />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at {path}. <Link to="/">Go to the overview</Link>.
      </p>
    </section>
  );
}

function App() {
  const { path } = useLocation();
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);

  async function signIn(key: string): Promise<void> {
    setError(null);
    try {
      const who = await api<Me>('/v1/me', { key });
      setKey(key);
      setMe(who);
    } catch (err) {
      setKey(null);
      setMe(null);
      setError(
        err instanceof ApiError && err.status === 401
          ? 'That API key was not accepted: it is unknown or has been revoked. Check it and try again.'
          : err instanceof Error
            ? err.message
            : String(err),
      );
    }
  }

  useEffect(() => {
    // The demo's sign-in link carries the key in the fragment (#key=...), which never reaches the server or its logs.
    const fromLink = new URLSearchParams(location.hash.slice(1)).get('key');
    if (fromLink !== null) history.replaceState(null, '', location.pathname + location.search);
    const key = fromLink ?? getKey();
    if (key === null) {
      setChecking(false);
      return;
    }
    void signIn(key).finally(() => setChecking(false));
  }, []);

  useEffect(() => setMenuOpen(false), [path]);

  if (checking) return <p role="status">Signing in…</p>;
  if (me === null) return <SignIn onSignIn={signIn} error={error} />;

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          certhub
        </Link>
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <nav id="nav" aria-label="Main" className={menuOpen ? 'open' : ''}>
          <ul>
            {NAV.filter((n) => n.admin !== true || me.key.role === 'admin').map((n) => {
              const current = n.to === '/' ? path === '/' : path.startsWith(n.to);
              return (
                <li key={n.to}>
                  <Link to={n.to} aria-current={current ? 'page' : undefined}>
                    {n.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="who">
          <span>
            {me.tenant.name} · {me.key.name} ({me.key.role})
          </span>
          <button
            type="button"
            className="link"
            onClick={() => {
              setKey(null);
              setMe(null);
              navigate('/');
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <Routes me={me} />
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
