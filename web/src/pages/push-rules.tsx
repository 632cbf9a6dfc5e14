/**
 * Push rules: which certificates certhub copies to a Springest or Open edX source. Any key reads them and their
 * pushes; admin keys create, edit, pause, resume and delete rules and retry failed pushes. Each rule has its own
 * page with its push log.
 */
import { useState } from 'react';
import { api } from '../api.ts';
import { formatInstant } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { PUSH_STATES, type PushRuleView, type PushState, type PushView, type SourceView } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Notice, Page, useLoad } from '../ui.tsx';
import { PushLog, pushesPath, usePollWhileInFlight } from './push-log.tsx';
import { describeMatch, PushRuleForm, TARGET_PROVIDERS, type RequirementOption } from './push-rule-form.tsx';
import { slug } from './webhook-deliveries.tsx';

/** How many of a rule's newest pushes its counts cover. */
const COUNTED = 1000;
/** Counts are asked again this often while a push is on its way (less often than a log: a count reads many rows). */
const COUNTS_POLL_MS = 5000;

function useRuleContext(): { sources: SourceView[]; requirements: RequirementOption[]; error: unknown; ready: boolean } {
  const sources = useLoad(() => api<{ items: SourceView[] }>('/v1/sources'), []);
  const requirements = useLoad(() => api<{ items: RequirementOption[] }>('/v1/requirements'), []);
  return {
    sources: sources.data?.items ?? [],
    requirements: requirements.data?.items ?? [],
    error: sources.error ?? requirements.error,
    ready: sources.data !== null && requirements.data !== null,
  };
}

/** A rule's pushes by state (of its newest COUNTED), each linking to the log filtered to that state. */
function RuleCounts(props: { rule: PushRuleView; version: number }) {
  const { rule } = props;
  const [poll, setPoll] = useState(0);
  const counts = useLoad(() => api<{ items: PushView[]; next_cursor: string | null }>(pushesPath({ rule_id: rule.id, limit: COUNTED })), [rule.id, rule.updated_at, props.version, poll]);
  usePollWhileInFlight(counts.data?.items ?? null, () => setPoll((n) => n + 1), COUNTS_POLL_MS);
  if (counts.error !== null) return <ErrorNote error={counts.error} />;
  if (counts.data === null) return <span className="muted">counting…</span>;
  const { items, next_cursor } = counts.data;
  if (items.length === 0) return <>none yet</>;
  const by = new Map<PushState, number>();
  for (const p of items) by.set(p.state, (by.get(p.state) ?? 0) + 1);
  return (
    <span className="push-counts">
      {next_cursor === null ? null : <span className="muted">of the newest {COUNTED.toLocaleString()}: </span>}
      {PUSH_STATES.filter((s) => by.has(s)).map((s) => (
        <Link key={s} to={`/push-rules/${encodeURIComponent(rule.id)}?state=${s}`} aria-label={`${by.get(s)!.toLocaleString()} ${s.replace(/_/g, ' ')} pushes of ${rule.name}`}>
          <Badge value={s} label={`${by.get(s)!.toLocaleString()} ${s.replace(/_/g, ' ')}`} />
        </Link>
      ))}
    </span>
  );
}

/** A rule's facts and, for admin keys, its actions (edit in place, pause or resume, delete). */
function Rule(props: {
  rule: PushRuleView;
  admin: boolean;
  sources: readonly SourceView[];
  requirements: readonly RequirementOption[];
  /** The list shows the name as a heading that links to the rule's page; the rule's page has it as its title. */
  linked: boolean;
  countsVersion: number;
  onChanged: (rule: PushRuleView, notice: string) => void;
  onDeleted: (rule: PushRuleView) => void;
}) {
  const r = props.rule;
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const base = `/v1/push-rules/${encodeURIComponent(r.id)}`;

  async function act(action: () => Promise<void>) {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    }
  }
  const toggle = () =>
    act(async () => {
      const saved = await api<PushRuleView>(base, { method: 'PATCH', body: { paused: !r.paused } });
      props.onChanged(saved, saved.paused ? `Paused ${r.name}: it plans no new pushes (those under way go on).` : `Resumed ${r.name}: certificates it covers are pushed again.`);
    });
  const remove = () =>
    act(async () => {
      if (!window.confirm(`Delete the push rule ${r.name}? Its pushes not yet made are cancelled; copies already on ${r.target_source} stay there.`)) return;
      await api(base, { method: 'DELETE' });
      props.onDeleted(r);
    });

  const headingId = `rule-${slug(r.id)}`;
  const hidden = <span className="visually-hidden"> {r.name}</span>;
  const sourceOf = new Map(props.sources.map((s) => [s.id, s]));
  const body = (
    <>
      <dl>
        <dt>State</dt>
        <dd>{r.paused ? <Badge value="paused" /> : <Badge value="active" />}</dd>
        <dt>Pushes</dt>
        <dd>
          <RuleCounts rule={r} version={props.countsVersion} />
        </dd>
        <dt>Matches</dt>
        <dd>{describeMatch(r.match, props.requirements)}</dd>
        <dt>From sources</dt>
        <dd>{r.sources.length === 0 ? 'any source' : r.sources.join(', ')}</dd>
        <dt>Pushed to</dt>
        <dd>
          {r.target_source} <span className="muted">({sourceOf.get(r.target_source)?.provider ?? r.target_provider})</span> as {r.target_description}
        </dd>
        {r.target_provider === 'openedx' ? (
          <>
            <dt>Usernames</dt>
            <dd>{Object.keys(r.usernames).length === 0 ? 'none mapped (linked Open edX identities only)' : `${Object.keys(r.usernames).length.toLocaleString()} mapped by email`}</dd>
          </>
        ) : null}
        <dt>Changed</dt>
        <dd>
          {formatInstant(r.updated_at)}
          {r.origin === 'config' ? <span className="muted"> (from certhub.yaml)</span> : null}
        </dd>
      </dl>
      {props.admin ? (
        <div className="row-actions">
          <button type="button" className="secondary" aria-expanded={editing} onClick={() => setEditing(!editing)}>
            {editing ? 'Cancel editing' : 'Edit'}
            {hidden}
          </button>
          <button type="button" className="secondary" onClick={() => void toggle()}>
            {r.paused ? 'Resume' : 'Pause'}
            {hidden}
          </button>
          <button type="button" className="danger" onClick={() => void remove()}>
            Delete{hidden}
          </button>
        </div>
      ) : null}
      <ErrorNote error={error} />
      {editing ? (
        <PushRuleForm
          initial={r}
          sources={props.sources}
          requirements={props.requirements}
          onSaved={(saved) => {
            setEditing(false);
            props.onChanged(saved, `Saved ${saved.name}.`);
          }}
        />
      ) : null}
    </>
  );
  if (!props.linked) return <div className="rule">{body}</div>;
  return (
    <section className="panel rule" aria-labelledby={headingId}>
      <h2 id={headingId}>
        <Link to={`/push-rules/${encodeURIComponent(r.id)}`}>{r.name}</Link>
      </h2>
      {body}
      <p>
        <Link to={`/push-rules/${encodeURIComponent(r.id)}`}>
          Push log<span className="visually-hidden"> of {r.name}</span>
        </Link>
      </p>
    </section>
  );
}

export function PushRules(props: { admin: boolean }) {
  const rules = useLoad(() => api<{ items: PushRuleView[] }>('/v1/push-rules'), []);
  const ctx = useRuleContext();
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const items = rules.data?.items ?? [];
  const targets = ctx.sources.filter((s) => TARGET_PROVIDERS.includes(s.provider));
  return (
    <Page
      title="Push rules"
      actions={
        props.admin ? (
          <button type="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
            {adding ? 'Cancel' : 'Add a push rule'}
          </button>
        ) : null
      }
    >
      <p className="muted">
        A push rule copies certificates to a Springest or Open edX source: those that satisfy a requirement, or those for one achievement. Springest
        gets each certificate with its PDF (at most 28 a minute) and shows it once it has verified the certification; Open edX awards a program or
        course run credential to the person&apos;s Open edX username. A revoked original revokes its Open edX copy.
      </p>
      {adding && ctx.ready ? (
        targets.length === 0 ? (
          <Empty>
            A push rule needs a Springest or Open edX source to push to. <Link to="/sources">Add one under Sources</Link> first.
          </Empty>
        ) : (
          <PushRuleForm
            sources={ctx.sources}
            requirements={ctx.requirements}
            onSaved={(created) => {
              setAdding(false);
              setNotice(`Created the push rule ${created.name}; the certificates it covers now are queued.`);
              rules.reload();
            }}
          />
        )
      ) : null}
      <Notice text={notice} />
      <ErrorNote error={rules.error ?? ctx.error} />
      {rules.loading && rules.data === null ? <Loading /> : null}
      {rules.data !== null && items.length === 0 ? (
        <Empty>No push rules yet. {props.admin ? 'Add one to copy certificates to Springest or Open edX.' : 'An admin can add one.'}</Empty>
      ) : null}
      {items.map((r) => (
        <Rule
          key={r.id}
          rule={r}
          admin={props.admin}
          sources={ctx.sources}
          requirements={ctx.requirements}
          linked
          countsVersion={0}
          onChanged={(_saved, text) => {
            setNotice(text);
            rules.reload();
          }}
          onDeleted={(gone) => {
            setNotice(`Deleted the push rule ${gone.name}.`);
            rules.reload();
          }}
        />
      ))}
    </Page>
  );
}

export function PushRulePage(props: { id: string; admin: boolean }) {
  const { query } = useLocation();
  const rule = useLoad(() => api<PushRuleView>(`/v1/push-rules/${encodeURIComponent(props.id)}`), [props.id]);
  const ctx = useRuleContext();
  const [notice, setNotice] = useState<string | null>(null);
  const [countsVersion, setCountsVersion] = useState(0);
  const wanted = query.get('state');
  const initialState = PUSH_STATES.find((s) => s === wanted) ?? '';
  if (rule.loading && rule.data === null) return <Loading />;
  if (rule.data === null) {
    return (
      <Page title="Push rule">
        <ErrorNote error={rule.error} />
        <Link to="/push-rules">All push rules</Link>
      </Page>
    );
  }
  const r = rule.data;
  return (
    <Page title={r.name}>
      <p>
        <Link to="/push-rules">All push rules</Link>
      </p>
      <Notice text={notice} />
      <ErrorNote error={ctx.error} />
      <Rule
        rule={r}
        admin={props.admin}
        sources={ctx.sources}
        requirements={ctx.requirements}
        linked={false}
        countsVersion={countsVersion}
        onChanged={(_saved, text) => {
          setNotice(text);
          rule.reload();
        }}
        onDeleted={() => navigate('/push-rules')}
      />
      <PushLog key={initialState} rule={r} admin={props.admin} initialState={initialState} onChanged={() => setCountsVersion((n) => n + 1)} />
    </Page>
  );
}
