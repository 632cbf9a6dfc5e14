/**
 * The push rule form (create, and edit with the rule's values): which certificates (a requirement, or one
 * achievement), from which sources, and where to (a Springest or Open edX source, with the fields its provider
 * takes). The API checks the rule; its message is shown as it is.
 */
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import type { PushRuleView, SourceView } from '../types.ts';
import { ErrorNote } from '../ui.tsx';

export interface RequirementOption {
  id: string;
  name: string;
}

/** The providers a rule can push to. */
export const TARGET_PROVIDERS = ['springest', 'openedx'];

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** `email = username` lines, as the usernames field shows them. */
export function formatUsernames(map: Record<string, string>): string {
  return Object.entries(map)
    .map(([email, username]) => `${email} = ${username}`)
    .join('\n');
}

/** The usernames field read back: a map, or the first line that is not `email = username`. */
export function parseUsernames(field: string): { ok: true; map: Record<string, string> } | { ok: false; error: string } {
  const map: Record<string, string> = {};
  const lines = field.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    const email = at < 0 ? '' : line.slice(0, at).trim();
    const username = at < 0 ? '' : line.slice(at + 1).trim();
    if (email === '' || username === '') return { ok: false, error: `Open edX usernames, line ${i + 1}: write it as email = username (got “${line}”).` };
    map[email] = username;
  }
  return { ok: true, map };
}

/** What a rule matches, in words. */
export function describeMatch(match: PushRuleView['match'], requirements: readonly RequirementOption[]): string {
  if ('requirement_id' in match) {
    const r = requirements.find((x) => x.id === match.requirement_id);
    return `certificates that satisfy the requirement ${r?.name ?? match.requirement_id}`;
  }
  const a = match.achievement;
  const what = [text(a.code) === '' ? null : `code ${text(a.code)}`, text(a.external_id) === '' ? null : `id ${text(a.external_id)}`].filter((x) => x !== null).join(', ');
  const where = [text(a.provider) === '' ? null : text(a.provider), text(a.type) === '' ? null : text(a.type)].filter((x) => x !== null).join(' ');
  return `certificates for the ${where === '' ? '' : `${where} `}achievement ${what}${text(a.source) === '' ? '' : ` of ${text(a.source)}`}`;
}

export function PushRuleForm(props: {
  initial?: PushRuleView;
  sources: readonly SourceView[];
  requirements: readonly RequirementOption[];
  onSaved: (rule: PushRuleView) => void;
}) {
  const init = props.initial;
  const prefix = init === undefined ? 'new-rule' : `edit-rule-${init.id.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const targets = props.sources.filter((s) => TARGET_PROVIDERS.includes(s.provider));
  const initAchievement = init !== undefined && 'achievement' in init.match ? init.match.achievement : {};
  const initTarget = init?.target ?? {};

  const [name, setName] = useState(init?.name ?? '');
  const [matchKind, setMatchKind] = useState<'requirement' | 'achievement'>(
    init === undefined ? (props.requirements.length > 0 ? 'requirement' : 'achievement') : 'requirement_id' in init.match ? 'requirement' : 'achievement',
  );
  const [requirement, setRequirement] = useState(init !== undefined && 'requirement_id' in init.match ? init.match.requirement_id : (props.requirements[0]?.id ?? ''));
  const [achSource, setAchSource] = useState(text(initAchievement.source));
  const [achCode, setAchCode] = useState(text(initAchievement.code));
  const [achExternal, setAchExternal] = useState(text(initAchievement.external_id));
  const [from, setFrom] = useState<string[]>(init?.sources ?? []);
  const [target, setTarget] = useState(init?.target_source ?? targets[0]?.id ?? '');
  const [certification, setCertification] = useState(text(initTarget.certification_id));
  const [verifyDays, setVerifyDays] = useState(text(initTarget.verify_within_days) || '30');
  const [conversion, setConversion] = useState(text(initTarget.conversion_id));
  const [oeKind, setOeKind] = useState<'program' | 'course_run'>(text(initTarget.course_run_key) === '' ? 'program' : 'course_run');
  const [program, setProgram] = useState(text(initTarget.program_uuid));
  const [courseRun, setCourseRun] = useState(text(initTarget.course_run_key));
  const [mode, setMode] = useState(text(initTarget.mode));
  const [usernames, setUsernames] = useState(formatUsernames(init?.usernames ?? {}));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const provider = props.sources.find((s) => s.id === target)?.provider ?? '';

  function matchBody(): Record<string, unknown> {
    if (matchKind === 'requirement') return { requirement };
    // Matcher fields this form does not edit (provider, type) stay as they were.
    const { source: _s, code: _c, external_id: _e, ...kept } = initAchievement;
    return {
      achievement: {
        ...kept,
        ...(achSource === '' ? {} : { source: achSource }),
        ...(achCode.trim() === '' ? {} : { code: achCode.trim() }),
        ...(achExternal.trim() === '' ? {} : { external_id: achExternal.trim() }),
      },
    };
  }

  function targetBody(): Record<string, unknown> {
    if (provider === 'springest') {
      return {
        certification_id: certification.trim(),
        ...(verifyDays.trim() === '' ? {} : { verify_within_days: Number(verifyDays) }),
        ...(conversion.trim() === '' ? {} : { conversion_id: Number(conversion) }),
      };
    }
    // A target source this form does not know (gone from the list): its options are sent as they were.
    if (provider !== 'openedx') return initTarget;
    if (oeKind === 'program') return { program_uuid: program.trim() };
    return { course_run_key: courseRun.trim(), ...(mode.trim() === '' ? {} : { mode: mode.trim() }) };
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const mapped = provider === 'openedx' ? parseUsernames(usernames) : ({ ok: true, map: {} } as const);
    if (!mapped.ok) {
      setError(new Error(mapped.error));
      return;
    }
    const body = {
      name: name.trim(),
      match: matchBody(),
      // The target is never a source of its own rule (the API refuses it).
      sources: from.filter((s) => s !== target),
      target_source: target,
      target: targetBody(),
      ...(provider === 'openedx' ? { usernames: mapped.map } : {}),
    };
    setBusy(true);
    try {
      const saved =
        init === undefined
          ? await api<PushRuleView>('/v1/push-rules', { method: 'POST', body })
          : await api<PushRuleView>(`/v1/push-rules/${encodeURIComponent(init.id)}`, { method: 'PATCH', body });
      props.onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const id = (field: string) => `${prefix}-${field}`;
  return (
    <form className="panel" aria-label={init === undefined ? 'New push rule' : `Edit push rule ${init.name}`} onSubmit={(e) => void submit(e)}>
      {init?.origin === 'config' ? (
        <p className="notice-box">This rule comes from certhub.yaml: certhub applies the file again when it starts, which replaces changes made here.</p>
      ) : null}
      <label htmlFor={id('name')}>Name</label>
      <input id={id('name')} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="Safety training to Springest" />

      <fieldset>
        <legend>Which certificates</legend>
        <div className="check">
          <input type="radio" id={id('by-requirement')} name={id('match')} checked={matchKind === 'requirement'} onChange={() => setMatchKind('requirement')} />
          <label htmlFor={id('by-requirement')}>Those that satisfy a requirement</label>
        </div>
        <div className="check">
          <input type="radio" id={id('by-achievement')} name={id('match')} checked={matchKind === 'achievement'} onChange={() => setMatchKind('achievement')} />
          <label htmlFor={id('by-achievement')}>Those for one achievement</label>
        </div>
        {matchKind === 'requirement' ? (
          <>
            <label htmlFor={id('requirement')}>Requirement</label>
            <select id={id('requirement')} required value={requirement} onChange={(e) => setRequirement(e.target.value)}>
              {props.requirements.length === 0 ? <option value="">No requirements yet</option> : null}
              {props.requirements.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </>
        ) : (
          <div className="matcher">
            <div>
              <label htmlFor={id('ach-source')}>Achievement of source</label>
              <select id={id('ach-source')} value={achSource} onChange={(e) => setAchSource(e.target.value)}>
                <option value="">Any source</option>
                {props.sources.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.id} ({s.provider})
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label htmlFor={id('ach-code')}>Achievement code</label>
              <input id={id('ach-code')} value={achCode} onChange={(e) => setAchCode(e.target.value)} placeholder="SAFE-101" />
            </div>
            <div>
              <label htmlFor={id('ach-external')}>or its id at the provider</label>
              <input id={id('ach-external')} value={achExternal} onChange={(e) => setAchExternal(e.target.value)} placeholder="44731" />
            </div>
          </div>
        )}
      </fieldset>

      <fieldset>
        <legend>From sources (none ticked: any source)</legend>
        {props.sources.map((s) => (
          <div key={s.id} className="check">
            <input
              type="checkbox"
              id={id(`from-${s.id}`)}
              disabled={s.id === target}
              checked={from.includes(s.id) && s.id !== target}
              onChange={(e) => setFrom(e.target.checked ? [...from, s.id] : from.filter((x) => x !== s.id))}
            />
            <label htmlFor={id(`from-${s.id}`)}>
              {s.id} <span className="muted">({s.provider}{s.id === target ? ', the target' : ''})</span>
            </label>
          </div>
        ))}
      </fieldset>

      <label htmlFor={id('target')}>Push to (a Springest or Open edX source)</label>
      <select id={id('target')} required value={target} onChange={(e) => setTarget(e.target.value)}>
        {targets.length === 0 ? <option value="">No Springest or Open edX source yet</option> : null}
        {targets.map((s) => (
          <option key={s.id} value={s.id}>
            {s.id} ({s.provider})
          </option>
        ))}
      </select>

      {provider === 'springest' ? (
        <fieldset>
          <legend>On Springest</legend>
          <label htmlFor={id('certification')}>Springest certification id</label>
          <input id={id('certification')} required inputMode="numeric" pattern="[0-9]{1,12}" value={certification} onChange={(e) => setCertification(e.target.value)} placeholder="5001" />
          <label htmlFor={id('verify-days')}>Days Springest may take to verify it before the push fails</label>
          <input id={id('verify-days')} type="number" min={1} max={365} value={verifyDays} onChange={(e) => setVerifyDays(e.target.value)} />
          <label htmlFor={id('conversion')}>Springest conversion id (optional)</label>
          <input id={id('conversion')} type="number" min={1} value={conversion} onChange={(e) => setConversion(e.target.value)} />
        </fieldset>
      ) : null}

      {provider === 'openedx' ? (
        <fieldset>
          <legend>On Open edX</legend>
          <div className="check">
            <input type="radio" id={id('oe-program')} name={id('oe-kind')} checked={oeKind === 'program'} onChange={() => setOeKind('program')} />
            <label htmlFor={id('oe-program')}>A program credential</label>
          </div>
          <div className="check">
            <input type="radio" id={id('oe-course-run')} name={id('oe-kind')} checked={oeKind === 'course_run'} onChange={() => setOeKind('course_run')} />
            <label htmlFor={id('oe-course-run')}>A course run certificate</label>
          </div>
          {oeKind === 'program' ? (
            <>
              <label htmlFor={id('program')}>Program uuid</label>
              <input id={id('program')} required value={program} onChange={(e) => setProgram(e.target.value)} placeholder="276b19e6-f5b3-4286-8129-df803f484679" />
            </>
          ) : (
            <>
              <label htmlFor={id('course-run')}>Course run key</label>
              <input id={id('course-run')} required value={courseRun} onChange={(e) => setCourseRun(e.target.value)} placeholder="course-v1:edX+DemoX+Demo_Course" />
              <label htmlFor={id('mode')}>Mode (optional)</label>
              <input id={id('mode')} value={mode} onChange={(e) => setMode(e.target.value)} placeholder="verified" />
            </>
          )}
          <label htmlFor={id('usernames')}>Open edX usernames (optional), one “email = username” a line, for people with no linked Open edX identity</label>
          <textarea id={id('usernames')} rows={4} value={usernames} onChange={(e) => setUsernames(e.target.value)} placeholder="kari@example.com = kari.nordmann" />
        </fieldset>
      ) : null}

      <ErrorNote error={error} />
      <button type="submit" disabled={busy || targets.length === 0}>
        {init === undefined ? 'Create push rule' : 'Save changes'}
      </button>
    </form>
  );
}
