/** Shared pieces: page frame (focus moves to the heading on navigation), loading and error states, badges, tables. */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';
import type { RunWarningView } from './types.ts';

export function Page(props: { title: string; actions?: ReactNode; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · certhub`;
    heading.current?.focus();
  }, [props.title]);
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {props.title}
        </h1>
        {props.actions === undefined ? null : <div className="actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}

export function ErrorNote(props: { error: unknown }) {
  if (props.error === null || props.error === undefined) return null;
  const message = props.error instanceof ApiError ? props.error.message : props.error instanceof Error ? props.error.message : 'Something went wrong.';
  return (
    <p className="error" role="alert">
      {message}
    </p>
  );
}

export function Loading() {
  return (
    <p className="muted" role="status">
      Loading…
    </p>
  );
}

export function Empty(props: { children: ReactNode }) {
  return <p className="empty">{props.children}</p>;
}

const TONE: Record<string, string> = {
  valid: 'good',
  compliant: 'good',
  succeeded: 'good',
  awarded: 'good',
  pushed: 'good',
  active: 'good',
  expiring: 'warn',
  running: 'info',
  pending: 'info',
  delivering: 'info',
  queued: 'info',
  pushing: 'info',
  awaiting_verification: 'info',
  not_yet_valid: 'info',
  expired: 'bad',
  failed: 'bad',
  revoked: 'bad',
  missing: 'bad',
  deleted: 'muted',
  cancelled: 'muted',
  paused: 'muted',
};

export function Badge(props: { value: string; label?: string }) {
  return <span className={`badge ${TONE[props.value] ?? 'muted'}`}>{props.label ?? props.value.replace(/_/g, ' ')}</span>;
}

/** Loads with `load()`, reloads on `deps` change or `reload()`. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [n, setN] = useState(0);
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [run, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

/** A status line for the result of an action, read out by screen readers. */
export function Notice(props: { text: string | null }) {
  return (
    <p className="notice" role="status" aria-live="polite">
      {props.text ?? ''}
    </p>
  );
}

/**
 * A run's warnings (it succeeded with less than it could): a warning badge with how many kinds, then each one with its
 * count, message and code. Nothing when there are none.
 */
export function RunWarnings(props: { warnings: readonly RunWarningView[]; label?: string }) {
  if (props.warnings.length === 0) return null;
  const { warnings } = props;
  return (
    <div className="run-warnings">
      <span className="badge warn">
        <span aria-hidden="true">⚠ </span>
        {warnings.length === 1 ? '1 warning' : `${warnings.length} warnings`}
        {props.label === undefined ? null : <span className="visually-hidden"> {props.label}</span>}
      </span>
      <ul>
        {warnings.map((w) => (
          <li key={w.code}>
            {w.count.toLocaleString()} {w.message} <code className="muted">{w.code}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}
