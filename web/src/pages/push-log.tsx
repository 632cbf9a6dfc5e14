/**
 * Pushes as the UI lists them: one rule's log (newest first, by state, paged), and one certificate's pushes (the
 * person and certificate pages). Both refresh themselves while a push is on its way and retry failed ones.
 */
import { useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { formatInstant } from '../format.ts';
import { Link } from '../router.tsx';
import { PUSH_STATES, type PushRuleView, type PushState, type PushView } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Notice } from '../ui.tsx';
import { slug } from './webhook-deliveries.tsx';

const PAGE = 20;
/** How often a list asks again while a push is on its way. */
const POLL_MS = 1500;

interface PushPage {
  items: PushView[];
  next_cursor: string | null;
}

export function pushesPath(opts: { rule_id?: string; certificate_id?: string; state?: PushState | ''; limit: number; cursor?: string | null }): string {
  const q = new URLSearchParams({ limit: String(opts.limit) });
  if (opts.rule_id !== undefined) q.set('rule_id', opts.rule_id);
  if (opts.certificate_id !== undefined) q.set('certificate_id', opts.certificate_id);
  if (opts.state !== undefined && opts.state !== '') q.set('state', opts.state);
  if (opts.cursor !== undefined && opts.cursor !== null) q.set('cursor', opts.cursor);
  return `/v1/pushes?${q.toString()}`;
}

/**
 * Pushes worth asking about again soon: being worked on, or due within a minute. One awaiting a verification that
 * is checked later (Springest verifies by hand, maybe days later) is not watched.
 */
function inFlight(items: readonly PushView[], now: number): boolean {
  return items.some(
    (p) => p.action !== null && (p.action.status === 'delivering' || (p.action.status === 'pending' && (p.action.next_attempt_at === null || Date.parse(p.action.next_attempt_at) <= now + 60_000))),
  );
}

/** Calls `refresh` after `ms` while `items` has a push on its way (again after each new `items`). */
export function usePollWhileInFlight(items: readonly PushView[] | null, refresh: () => void, ms = POLL_MS): void {
  useEffect(() => {
    if (items === null || !inFlight(items, Date.now())) return;
    const timer = setTimeout(refresh, ms);
    return () => clearTimeout(timer);
  }, [items]);
}

async function retry(p: PushView): Promise<string> {
  await api(`/v1/pushes/${encodeURIComponent(p.id)}/retry`, { method: 'POST', body: {} });
  return `The push of certificate ${p.certificate_id} is tried again.`;
}

/** What the push did or waits for, with its times: pushed, verified, verify by, next try. */
function PushTimes(props: { push: PushView }) {
  const p = props.push;
  const lines: string[] = [];
  if (p.pushed_at !== null) lines.push(`pushed ${formatInstant(p.pushed_at)}`);
  if (p.verified_at !== null) lines.push(`verified ${formatInstant(p.verified_at)}`);
  if (p.state === 'awaiting_verification' && p.verify_until !== null) lines.push(`fails if not verified by ${formatInstant(p.verify_until)}`);
  if (p.action?.status === 'pending' && p.action.next_attempt_at !== null && p.state !== 'failed') lines.push(`next step ${formatInstant(p.action.next_attempt_at)}`);
  if (lines.length === 0) return <>{formatInstant(p.created_at)}</>;
  return (
    <>
      {lines.map((l) => (
        <div key={l}>{l}</div>
      ))}
    </>
  );
}

function PushStateBadge(props: { push: PushView }) {
  const p = props.push;
  return (
    <>
      <Badge value={p.state} />
      {p.desired === 'revoked' && p.state !== 'revoked' && p.state !== 'cancelled' ? <div className="muted">to be revoked</div> : null}
    </>
  );
}

/**
 * One rule's pushes, newest first. "Show more" follows next_cursor; a refresh (a retry, or a push on its way) reloads
 * from the top as many rows as are shown, so no row goes missing between pages.
 */
export function PushLog(props: { rule: PushRuleView; admin: boolean; initialState?: PushState | ''; onChanged: () => void }) {
  const { rule } = props;
  const [state, setState] = useState<PushState | ''>(props.initialState ?? '');
  const [log, setLog] = useState<PushPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [poll, setPoll] = useState(0);
  const [polled, setPolled] = useState<PushView[] | null>(null);
  const shown = useRef(PAGE);
  const seen = useRef<string | null>(null);
  const watching = useRef(new Set<string>());

  useEffect(() => {
    let live = true;
    const watched = [...watching.current].map((id) => api<PushView>(`/v1/pushes/${encodeURIComponent(id)}`).catch(() => null));
    Promise.all([api<PushPage>(pushesPath({ rule_id: rule.id, state, limit: Math.min(Math.max(PAGE, shown.current), 500) })), Promise.all(watched)]).then(
      ([page, retried]) => {
        if (!live) return;
        setLog(page);
        setError(null);
        shown.current = page.items.length;
        const stillOnItsWay = retried.filter((p): p is PushView => p !== null && inFlight([p], Date.now()));
        watching.current = new Set(stillOnItsWay.map((p) => p.id));
        setPolled([...page.items, ...stillOnItsWay]);
        // A push came or changed state: the rule's counts changed with it.
        const states = page.items.map((p) => `${p.id}:${p.state}`).join(' ');
        if (seen.current !== null && seen.current !== states) props.onChanged();
        seen.current = states;
      },
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [rule.id, rule.updated_at, state, poll]);

  // A retried push leaves a log filtered by state (failed only) while it is on its way: it is watched by its id
  // until it settles, so the log shows how it ended.
  usePollWhileInFlight(polled, () => setPoll((n) => n + 1));

  async function more() {
    if (log === null || log.next_cursor === null) return;
    try {
      const page = await api<PushPage>(pushesPath({ rule_id: rule.id, state, limit: PAGE, cursor: log.next_cursor }));
      const items = [...log.items, ...page.items];
      shown.current = items.length;
      setLog({ items, next_cursor: page.next_cursor });
    } catch (err) {
      setError(err);
    }
  }

  async function retryOne(p: PushView) {
    setError(null);
    try {
      setNotice(await retry(p));
      watching.current.add(p.id);
      setPoll((n) => n + 1);
    } catch (err) {
      setError(err);
    }
  }

  const filterId = `push-state-${slug(rule.id)}`;
  const items = log?.items ?? [];
  return (
    <div className="delivery-log push-log">
      <div className="log-head">
        <h2>Pushes</h2>
        <div>
          <label htmlFor={filterId}>Show</label>
          <select
            id={filterId}
            value={state}
            onChange={(e) => {
              shown.current = PAGE;
              setState(e.target.value as PushState | '');
            }}
          >
            <option value="">every push</option>
            {PUSH_STATES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')} only
              </option>
            ))}
          </select>
        </div>
      </div>
      <Notice text={notice} />
      <ErrorNote error={error} />
      {log === null && error === null ? <Loading /> : null}
      {log !== null && items.length === 0 ? <Empty>{state === '' ? 'No pushes yet: no certificate matches the rule so far.' : `No ${state.replace(/_/g, ' ')} pushes.`}</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Pushes of {rule.name}</caption>
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Certificate</th>
              <th scope="col">Target</th>
              <th scope="col">Remote id</th>
              <th scope="col">Last error</th>
              <th scope="col">Time</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <td>
                  <PushStateBadge push={p} />
                </td>
                <td>
                  <Link className="cert-link" to={`/certificates/${encodeURIComponent(p.certificate_id)}`}>
                    <span className="visually-hidden">Certificate </span>
                    {p.certificate_id}
                  </Link>
                </td>
                <td>
                  <code>{p.target}</code>
                </td>
                <td>{p.remote_id ?? '—'}</td>
                <td>{p.last_error ?? '—'}</td>
                <td>
                  <PushTimes push={p} />
                </td>
                <td>
                  {props.admin && p.state === 'failed' ? (
                    <button type="button" className="secondary" onClick={() => void retryOne(p)}>
                      Retry<span className="visually-hidden"> the push of certificate {p.certificate_id}</span>
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {log === null || log.next_cursor === null ? null : (
        <button type="button" className="secondary" onClick={() => void more()}>
          Show more pushes<span className="visually-hidden"> of {rule.name}</span>
        </button>
      )}
    </div>
  );
}

/**
 * One certificate's pushes (a certificate has few: one per rule that takes it): where to, how it stands, the copy's
 * id, and a retry for a failed one. Nothing at all when it has none, unless `emptyText` is given.
 */
export function CertificatePushes(props: { certificateId: string; admin: boolean; rules: readonly PushRuleView[]; emptyText?: string }) {
  const [pushes, setPushes] = useState<PushView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [poll, setPoll] = useState(0);

  useEffect(() => {
    let live = true;
    api<PushPage>(pushesPath({ certificate_id: props.certificateId, limit: 100 })).then(
      (page) => {
        if (!live) return;
        setPushes(page.items);
        setError(null);
      },
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [props.certificateId, poll]);

  usePollWhileInFlight(pushes, () => setPoll((n) => n + 1));

  async function retryOne(p: PushView) {
    setError(null);
    try {
      setNotice(await retry(p));
      setPoll((n) => n + 1);
    } catch (err) {
      setError(err);
    }
  }

  if (error !== null) return <ErrorNote error={error} />;
  if (pushes === null) return null;
  if (pushes.length === 0) return props.emptyText === undefined ? null : <Empty>{props.emptyText}</Empty>;
  const ruleOf = new Map(props.rules.map((r) => [r.id, r]));
  return (
    <div className="cert-pushes">
      <ul aria-label={`Pushes of certificate ${props.certificateId}`}>
        {pushes.map((p) => {
          const rule = ruleOf.get(p.rule_id);
          return (
            <li key={p.id}>
              Push to {rule === undefined ? <code>{p.target}</code> : <Link to={`/push-rules/${encodeURIComponent(rule.id)}`}>{`${rule.target_source} ${rule.target_description}`}</Link>}
              {rule === undefined ? null : <span className="muted"> by the rule {rule.name}</span>}: <PushStateBadge push={p} />
              {p.remote_id === null ? null : <span> remote id {p.remote_id}</span>}
              {p.last_error === null ? null : <div className="error">{p.last_error}</div>}
              {props.admin && p.state === 'failed' ? (
                <button type="button" className="secondary" onClick={() => void retryOne(p)}>
                  Retry<span className="visually-hidden"> the push of certificate {p.certificate_id} to {p.target}</span>
                </button>
              ) : null}
            </li>
          );
        })}
      </ul>
      <Notice text={notice} />
    </div>
  );
}
