/**
 * Push rules and pushes (issue 16). A push rule says which certificates certhub copies to a platform that accepts
 * them ("certificates satisfying requirement R, or matching achievement X, from sources S, go to Springest source P as
 * certification C"). A push is one certificate at one target, keyed by certificate + target source + target: its
 * idempotency key. Pushes are planned inside the transaction of the change that causes them (a sync page, a rule
 * written through the API), each with ONE outbox row of kind `push` that is re-armed whenever what certhub wants
 * there changes (present / revoked); the push worker (outbound/push-worker.ts) brings the target in line.
 */
import type { Transaction } from 'kysely';
import type { Certificate } from '../domain/certificate.ts';
import { matches, type AchievementMatcher, type RequirementRule, requirementRuleSchema } from '../domain/requirement.ts';
import { calendarDate } from '../domain/validity.ts';
import { AppError } from '../errors.ts';
import type { NewEvent } from '../outbound/catalog.ts';
import { chunk, isoNow, isUniqueViolation, ROWS_PER_STATEMENT, VALUES_PER_LIST, type StoreContext } from './context.ts';
import { newOutboxRow, nextDueOf, recordEvents } from './events.ts';
import type { Database, OutboxTable, PushesTable, PushRulesTable } from './schema.ts';

type Trx = Transaction<Database>;

export const PUSH_KIND = 'push';

export type PushMatch = { requirement_id: string } | { achievement: AchievementMatcher };

export interface PushRule {
  id: string;
  tenant_id: string;
  name: string;
  paused: boolean;
  match: PushMatch;
  /** Source slugs the certificates come from; [] = any source (never the target itself). */
  sources: string[];
  target_source_id: string;
  /** The target provider's options (Springest: certification_id, verify_within_days; Open edX: program_uuid or course_run_key). */
  target: Record<string, unknown>;
  /** What on the target, as its provider names it ('certification:42', 'program:<uuid>'). */
  target_key: string;
  /** Open edX: email -> username, for people without a linked Open edX identity. */
  usernames: Record<string, string>;
  origin: 'api' | 'config';
  created_at: string;
  updated_at: string;
}

export interface PushRuleInput {
  name: string;
  paused?: boolean;
  match: PushMatch;
  sources?: string[];
  target_source_id: string;
  target: Record<string, unknown>;
  target_key: string;
  usernames?: Record<string, string>;
}

export const PUSH_STATES = ['queued', 'pushing', 'awaiting_verification', 'pushed', 'revoked', 'failed', 'cancelled'] as const;
export type PushState = (typeof PUSH_STATES)[number];

export interface Push {
  id: string;
  tenant_id: string;
  rule_id: string;
  certificate_id: string;
  target_source_id: string;
  target_key: string;
  /** What certhub wants on the target. */
  desired: 'present' | 'revoked';
  state: PushState;
  /** The target's id of the pushed copy (Springest certificate id, Open edX credential uuid). */
  remote_id: string | null;
  /** What the last create sent (the keys the copy is recognised by). */
  sent: Record<string, unknown> | null;
  /** A create was sent at this instant and its outcome is not known (the process died, the answer was lost). */
  attempt_started_at: string | null;
  verify_until: string | null;
  last_error: string | null;
  pushed_at: string | null;
  verified_at: string | null;
  created_at: string;
  updated_at: string;
  /** The outbox row's delivery state. */
  action: { status: string; attempts: number; next_attempt_at: string | null; last_error: string | null } | null;
}

/** What the push worker holds: one push to bring in line. */
export interface ClaimedPush {
  outbox_id: string;
  tenant_id: string;
  attempts: number;
  push: Push;
  rule: PushRule | null;
}

/** How a step of the worker ended. */
export interface PushStepResult {
  /** The desired state the step acted on: when it changed meanwhile, the action is due again at once. */
  acted_on: 'present' | 'revoked';
  push: Partial<Pick<PushesTable, 'state' | 'remote_id' | 'sent_json' | 'attempt_started_at' | 'verify_until' | 'last_error' | 'pushed_at' | 'verified_at'>>;
  outbox:
    | { kind: 'succeeded' }
    | { kind: 'retry'; next_attempt_at: string; error?: string | null; status_code?: number | null; counts?: boolean }
    | { kind: 'failed'; error: string; status_code?: number | null };
  event?: NewEvent;
}

/** A certificate as it stands after a change: what push planning looks at. */
export interface PushCandidate {
  id: string;
  source_id: string;
  person_id: string | null;
  status: string;
  /** YYYY-MM-DD or null: a certificate that has ended is not pushed any more. */
  valid_until: string | null;
  achievement: { type: string; external_id: string; code: string | null };
}

/** A pushed copy a sync of the target may read back. */
export interface PushedCopy {
  push_id: string;
  remote_id: string | null;
  sent: Record<string, unknown> | null;
  attempt_started_at: string | null;
}

export interface PushRepository {
  /** Creates the rule and plans a push for every certificate it covers now. AppError('conflict') on a taken name. */
  createRule(tenantId: string, input: PushRuleInput, opts?: { now?: Date; origin?: 'api' | 'config' }): Promise<PushRule>;
  listRules(tenantId: string): Promise<PushRule[]>;
  getRule(tenantId: string, id: string): Promise<PushRule | null>;
  getRuleByName(tenantId: string, name: string): Promise<PushRule | null>;
  /** Fields left out stay; unpausing or changing what it covers plans the pushes it now covers. */
  updateRule(tenantId: string, id: string, patch: Partial<PushRuleInput>, opts?: { now?: Date }): Promise<PushRule>;
  /** Deletes the rule; its pushes not yet made are cancelled (copies already on the target stay). */
  deleteRule(tenantId: string, id: string, opts?: { now?: Date }): Promise<void>;
  /** Newest first; cursor is the last id of the previous page. */
  listPushes(
    tenantId: string,
    query?: { certificate_id?: string; rule_id?: string; state?: PushState; limit?: number; cursor?: string | null },
  ): Promise<{ items: Push[]; next_cursor: string | null }>;
  getPush(tenantId: string, id: string): Promise<Push | null>;
  /** Due again now (a failed push retried by hand, or any other to look again). */
  retryPush(tenantId: string, id: string, opts?: { now?: Date }): Promise<Push>;
  /** Pushes that ended failed: the overview's count. */
  countFailed(tenantId: string): Promise<number>;
  /** Who to push as: the email certhub knows for the person / certificate, and the person's user name at `sourceId`. */
  subjectFor(tenantId: string, cert: Certificate, sourceId: string): Promise<{ email: string | null; username: string | null }>;

  claimDue(owner: string, opts: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedPush[]>;
  /**
   * Marks a create as sent from now (committed before the request goes out), with what it sends. False when `owner`
   * no longer holds the action.
   */
  beginCreate(outboxId: string, owner: string, pushId: string, sent: Record<string, unknown>, opts: { now: Date }): Promise<boolean>;
  /** Records a step; false when `owner` no longer holds the action (its lease ran out). */
  finishStep(outboxId: string, owner: string, result: PushStepResult, opts: { now: Date }): Promise<boolean>;
  /**
   * Takes the next posting slot of a paced key (shared by every process on this store) if it is free at `now`:
   * ok, or when the next one is.
   */
  takeSlot(key: string, intervalMs: number, opts: { now: Date }): Promise<{ ok: true } | { ok: false; at: string }>;
  nextDue(): Promise<string | null>;
}

function parseMatch(json: string): PushMatch {
  return JSON.parse(json) as PushMatch;
}

function toRule(row: PushRulesTable): PushRule {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    paused: row.paused === 1,
    match: parseMatch(row.match_json),
    sources: JSON.parse(row.sources_json) as string[],
    target_source_id: row.target_source_id,
    target: JSON.parse(row.target_json) as Record<string, unknown>,
    target_key: row.target_key,
    usernames: JSON.parse(row.usernames_json) as Record<string, string>,
    origin: row.origin === 'config' ? 'config' : 'api',
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

type OutboxState = Pick<OutboxTable, 'status' | 'attempts' | 'next_attempt_at' | 'last_error'>;

function toPush(row: PushesTable, action: OutboxState | null): Push {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    rule_id: row.rule_id,
    certificate_id: row.certificate_id,
    target_source_id: row.target_source_id,
    target_key: row.target_key,
    desired: row.desired === 'revoked' ? 'revoked' : 'present',
    state: row.state as PushState,
    remote_id: row.remote_id,
    sent: row.sent_json === null ? null : (JSON.parse(row.sent_json) as Record<string, unknown>),
    attempt_started_at: row.attempt_started_at,
    verify_until: row.verify_until,
    last_error: row.last_error,
    pushed_at: row.pushed_at,
    verified_at: row.verified_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    action:
      action === null
        ? null
        : {
            status: action.status,
            attempts: Number(action.attempts),
            next_attempt_at: action.status === 'pending' ? action.next_attempt_at : null,
            last_error: action.last_error,
          },
  };
}

function outboxRow(ctx: StoreContext, tenantId: string, push: Pick<PushesTable, 'id' | 'target_source_id'>, now: string): OutboxTable {
  return newOutboxRow(ctx, { tenant_id: tenantId, kind: PUSH_KIND, target_id: push.target_source_id, subject_id: push.id, idempotency_key: `push:${push.id}` }, now);
}

/** Due again now. A row being worked on stays claimed: its worker sees the new wish when it records its step. */
async function rearm(trx: Trx, pushIds: readonly string[], now: string): Promise<void> {
  for (const ids of chunk(pushIds, VALUES_PER_LIST)) {
    await trx
      .updateTable('outbox')
      .set({ status: 'pending', next_attempt_at: now, attempts: 0, finished_at: null })
      .where('kind', '=', PUSH_KIND)
      .where('subject_id', 'in', ids)
      .where('status', '<>', 'delivering')
      .execute();
  }
}

interface LoadedRule {
  rule: PushRule;
  /** The matchers it applies (the requirement's any_of, or the one achievement). */
  matchers: AchievementMatcher[];
}

async function loadRules(trx: Trx, tenantId: string, opts: { ruleId?: string } = {}): Promise<LoadedRule[]> {
  const rows = await trx
    .selectFrom('push_rules')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('paused', '=', 0)
    .$if(opts.ruleId !== undefined, (q) => q.where('id', '=', opts.ruleId!))
    .execute();
  if (rows.length === 0) return [];
  const rules = rows.map(toRule);
  const requirementIds = rules.flatMap((r) => ('requirement_id' in r.match ? [r.match.requirement_id] : []));
  const requirements = new Map<string, RequirementRule>();
  if (requirementIds.length > 0) {
    const reqs = await trx.selectFrom('requirements').select(['id', 'rule_json']).where('id', 'in', requirementIds).execute();
    for (const r of reqs) requirements.set(r.id, requirementRuleSchema.parse(JSON.parse(r.rule_json)));
  }
  return rules.map((rule) => ({
    rule,
    matchers: 'requirement_id' in rule.match ? (requirements.get(rule.match.requirement_id)?.any_of ?? []) : [rule.match.achievement],
  }));
}

/**
 * Plans the pushes a change causes, in the change's transaction: for each certificate as it now stands and each
 * active rule covering it, a push (with its outbox row) when it is awarded and has none; when it is no longer awarded
 * (revoked, deleted, pending again) or no longer covered (superseded: its achievement or source changed), what is
 * wanted there becomes `revoked`; awarded again, `present`. A tenant without push rules pays one indexed read.
 */
export async function planPushes(ctx: StoreContext, trx: Trx, tenantId: string, candidates: readonly PushCandidate[], now: string, opts: { ruleId?: string } = {}): Promise<number> {
  if (candidates.length === 0) return 0;
  const rules = await loadRules(trx, tenantId, opts);
  if (rules.length === 0) return 0;
  const sourceRows = await trx.selectFrom('sources').select(['id', 'slug', 'provider']).where('tenant_id', '=', tenantId).execute();
  const sources = new Map(sourceRows.map((s) => [s.id, s]));

  const existing = new Map<string, PushesTable>();
  for (const ids of chunk(
    candidates.map((c) => c.id),
    VALUES_PER_LIST,
  )) {
    const rows = await trx.selectFrom('pushes').selectAll().where('certificate_id', 'in', ids).execute();
    for (const row of rows) existing.set(`${row.certificate_id}|${row.target_source_id}|${row.target_key}`, row);
  }

  const inserts: PushesTable[] = [];
  // Keys of the pushes inserted below (two rules with one target plan one push).
  const planned = new Set<string>();
  const changed = new Map<string, 'present' | 'revoked'>();
  const covered = new Set<string>();
  for (const cand of candidates) {
    const source = sources.get(cand.source_id);
    if (source === undefined) continue;
    const asCert = { provider: source.provider, source: source.slug, achievement: cand.achievement } as unknown as Certificate;
    for (const { rule, matchers } of rules) {
      if (rule.target_source_id === cand.source_id) continue;
      if (rule.sources.length > 0 && !rule.sources.includes(source.slug)) continue;
      if (!matchers.some((m) => matches(asCert, m))) continue;
      const key = `${cand.id}|${rule.target_source_id}|${rule.target_key}`;
      covered.add(key);
      const found = existing.get(key);
      const wanted = cand.status === 'awarded' ? 'present' : 'revoked';
      if (found === undefined) {
        // A certificate that has already ended satisfies nothing: it is not pushed (one pushed before stays).
        const ended = cand.valid_until !== null && cand.valid_until < calendarDate(new Date(now));
        if (wanted !== 'present' || ended || planned.has(key)) continue;
        planned.add(key);
        inserts.push({
          id: ctx.newId(),
          tenant_id: tenantId,
          rule_id: rule.id,
          certificate_id: cand.id,
          target_source_id: rule.target_source_id,
          target_key: rule.target_key,
          desired: 'present',
          state: 'queued',
          remote_id: null,
          sent_json: null,
          attempt_started_at: null,
          verify_until: null,
          last_error: null,
          pushed_at: null,
          verified_at: null,
          created_at: now,
          updated_at: now,
        });
      } else if (found.desired !== wanted) {
        changed.set(found.id, wanted);
      }
    }
  }
  // Superseded: a push of a certificate in this change that no active rule covers any more (rules of the same
  // target paused or deleted leave theirs alone).
  const activeTargets = new Set(rules.map(({ rule }) => `${rule.target_source_id}|${rule.target_key}`));
  for (const [key, row] of existing) {
    if (covered.has(key) || row.desired === 'revoked') continue;
    if (!activeTargets.has(`${row.target_source_id}|${row.target_key}`)) continue;
    if (opts.ruleId !== undefined && row.rule_id !== opts.ruleId) continue;
    changed.set(row.id, 'revoked');
  }

  for (const part of chunk(inserts, ROWS_PER_STATEMENT)) await trx.insertInto('pushes').values(part).execute();
  const actions = inserts.map((p) => outboxRow(ctx, tenantId, p, now));
  for (const part of chunk(actions, ROWS_PER_STATEMENT)) await trx.insertInto('outbox').values(part).execute();
  for (const desired of ['present', 'revoked'] as const) {
    const ids = [...changed].filter(([, d]) => d === desired).map(([id]) => id);
    for (const part of chunk(ids, VALUES_PER_LIST)) {
      await trx.updateTable('pushes').set({ desired, updated_at: now }).where('id', 'in', part).execute();
    }
    await rearm(trx, ids, now);
  }
  return inserts.length + changed.size;
}

/** The pushed copies on `sourceId` a page from it may contain: by remote id, or (a create in doubt) by what was sent. */
export async function pushedCopies(trx: Trx, sourceId: string, externalIds: readonly string[]): Promise<{ byRemoteId: Map<string, PushedCopy>; inDoubt: PushedCopy[] }> {
  const byRemoteId = new Map<string, PushedCopy>();
  const copy = (r: Pick<PushesTable, 'id' | 'remote_id' | 'sent_json' | 'attempt_started_at'>): PushedCopy => ({
    push_id: r.id,
    remote_id: r.remote_id,
    sent: r.sent_json === null ? null : (JSON.parse(r.sent_json) as Record<string, unknown>),
    attempt_started_at: r.attempt_started_at,
  });
  for (const ids of chunk(externalIds, VALUES_PER_LIST)) {
    const rows = await trx
      .selectFrom('pushes')
      .select(['id', 'remote_id', 'sent_json', 'attempt_started_at'])
      .where('target_source_id', '=', sourceId)
      .where('remote_id', 'in', ids)
      .execute();
    for (const r of rows) byRemoteId.set(r.remote_id!, copy(r));
  }
  const doubt = await trx
    .selectFrom('pushes')
    .select(['id', 'remote_id', 'sent_json', 'attempt_started_at'])
    .where('target_source_id', '=', sourceId)
    .where('remote_id', 'is', null)
    .where('attempt_started_at', 'is not', null)
    .execute();
  return { byRemoteId, inDoubt: doubt.map(copy) };
}

/** A sync read a pushed copy: its id is known now, and a copy visible on the target is verified. */
export async function notePushedCopies(trx: Trx, seen: readonly { push_id: string; remote_id: string }[], now: string): Promise<void> {
  for (const s of seen) {
    await trx
      .updateTable('pushes')
      .set({ remote_id: s.remote_id, attempt_started_at: null, updated_at: now })
      .where('id', '=', s.push_id)
      .where('remote_id', 'is', null)
      .execute();
    const row = await trx.selectFrom('pushes').select(['state']).where('id', '=', s.push_id).executeTakeFirst();
    // Seen on the target while waiting for verification or in doubt: the worker's next look confirms it at once.
    if (row !== undefined && (row.state === 'awaiting_verification' || row.state === 'pushing')) {
      await trx
        .updateTable('outbox')
        .set({ next_attempt_at: now })
        .where('kind', '=', PUSH_KIND)
        .where('subject_id', '=', s.push_id)
        .where('status', '=', 'pending')
        .execute();
    }
  }
}

export function createPushRepository(ctx: StoreContext): PushRepository {
  const { db } = ctx;

  async function ruleRow(trx: Trx | typeof db, tenantId: string, id: string): Promise<PushRulesTable> {
    const row = await trx.selectFrom('push_rules').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new AppError('not_found', `push rule ${id} not found`);
    return row;
  }

  /** Plans the pushes for every certificate the rule covers now (a new rule, an unpaused or changed one). */
  async function backfill(trx: Trx, rule: PushRule, now: string): Promise<void> {
    if (rule.paused) return;
    const [loaded] = await loadRules(trx, rule.tenant_id, { ruleId: rule.id });
    if (loaded === undefined || loaded.matchers.length === 0) return;
    // Narrow by the matchers' achievement ids / codes, then let planPushes decide exactly.
    const externalIds = loaded.matchers.flatMap((m) => (m.external_id === undefined ? [] : [m.external_id]));
    const everyMatcherNamesId = externalIds.length === loaded.matchers.length;
    let after = '';
    for (;;) {
      const rows = await trx
        .selectFrom('certificates')
        .select(['id', 'source_id', 'person_id', 'status', 'valid_until', 'achievement_type', 'achievement_external_id', 'achievement_code'])
        .where('tenant_id', '=', rule.tenant_id)
        .where('status', '=', 'awarded')
        .where('id', '>', after)
        .$if(everyMatcherNamesId, (q) => q.where('achievement_external_id', 'in', externalIds))
        .orderBy('id')
        .limit(2000)
        .execute();
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      await planPushes(
        ctx,
        trx,
        rule.tenant_id,
        rows.map((r) => ({
          id: r.id,
          source_id: r.source_id,
          person_id: r.person_id,
          status: r.status,
          valid_until: r.valid_until,
          achievement: { type: r.achievement_type, external_id: r.achievement_external_id, code: r.achievement_code },
        })),
        now,
        { ruleId: rule.id },
      );
    }
  }

  async function pushWithAction(trx: Trx | typeof db, where: { tenantId: string; id: string }): Promise<Push | null> {
    const row = await trx.selectFrom('pushes').selectAll().where('tenant_id', '=', where.tenantId).where('id', '=', where.id).executeTakeFirst();
    if (row === undefined) return null;
    const action = await trx
      .selectFrom('outbox')
      .select(['status', 'attempts', 'next_attempt_at', 'last_error'])
      .where('kind', '=', PUSH_KIND)
      .where('subject_id', '=', row.id)
      .executeTakeFirst();
    return toPush(row, action ?? null);
  }

  const checkName = (name: string, err: unknown): never => {
    if (isUniqueViolation(err)) throw new AppError('conflict', `a push rule named "${name}" already exists`, { cause: err });
    throw err;
  };

  return {
    async createRule(tenantId, input, opts) {
      const now = isoNow(opts?.now);
      const row: PushRulesTable = {
        id: ctx.newId(),
        tenant_id: tenantId,
        name: input.name,
        paused: input.paused === true ? 1 : 0,
        match_json: JSON.stringify(input.match),
        sources_json: JSON.stringify(input.sources ?? []),
        target_source_id: input.target_source_id,
        target_json: JSON.stringify(input.target),
        target_key: input.target_key,
        usernames_json: JSON.stringify(input.usernames ?? {}),
        origin: opts?.origin ?? 'api',
        created_at: now,
        updated_at: now,
      };
      try {
        return await db.transaction().execute(async (trx) => {
          await trx.insertInto('push_rules').values(row).execute();
          const rule = toRule(row);
          await backfill(trx, rule, now);
          return rule;
        });
      } catch (err) {
        return checkName(input.name, err);
      }
    },

    async listRules(tenantId) {
      const rows = await db.selectFrom('push_rules').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
      return rows.map(toRule);
    },

    async getRule(tenantId, id) {
      const row = await db.selectFrom('push_rules').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toRule(row);
    },

    async getRuleByName(tenantId, name) {
      const row = await db.selectFrom('push_rules').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      return row === undefined ? null : toRule(row);
    },

    async updateRule(tenantId, id, patch, opts) {
      const now = isoNow(opts?.now);
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await ruleRow(trx, tenantId, id);
          const next: PushRulesTable = {
            ...row,
            ...(patch.name === undefined ? {} : { name: patch.name }),
            ...(patch.paused === undefined ? {} : { paused: patch.paused ? 1 : 0 }),
            ...(patch.match === undefined ? {} : { match_json: JSON.stringify(patch.match) }),
            ...(patch.sources === undefined ? {} : { sources_json: JSON.stringify(patch.sources) }),
            ...(patch.target_source_id === undefined ? {} : { target_source_id: patch.target_source_id }),
            ...(patch.target === undefined ? {} : { target_json: JSON.stringify(patch.target) }),
            ...(patch.target_key === undefined ? {} : { target_key: patch.target_key }),
            ...(patch.usernames === undefined ? {} : { usernames_json: JSON.stringify(patch.usernames) }),
          };
          const same = (Object.keys(next) as (keyof PushRulesTable)[]).every((k) => next[k] === row[k]);
          if (same) return toRule(row);
          next.updated_at = now;
          const { id: _id, tenant_id: _t, created_at: _c, origin: _o, ...set } = next;
          await trx.updateTable('push_rules').set(set).where('id', '=', id).execute();
          const rule = toRule(next);
          await backfill(trx, rule, now);
          return rule;
        });
      } catch (err) {
        return checkName(patch.name ?? '', err);
      }
    },

    async deleteRule(tenantId, id, opts) {
      const now = isoNow(opts?.now);
      await db.transaction().execute(async (trx) => {
        await ruleRow(trx, tenantId, id);
        const open = trx.selectFrom('pushes').select('id').where('rule_id', '=', id).where('state', 'in', ['queued', 'failed']);
        await trx
          .updateTable('outbox')
          .set({ status: 'cancelled', finished_at: now, claimed_by: null, claimed_until: null })
          .where('kind', '=', PUSH_KIND)
          .where('subject_id', 'in', open)
          .where('status', 'in', ['pending', 'failed'])
          .execute();
        await trx
          .updateTable('pushes')
          .set({ state: 'cancelled', last_error: 'its push rule was deleted', updated_at: now })
          .where('rule_id', '=', id)
          .where('state', 'in', ['queued', 'failed'])
          .execute();
        await trx.deleteFrom('push_rules').where('id', '=', id).execute();
      });
    },

    async listPushes(tenantId, query = {}) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const rows = await db
        .selectFrom('pushes as p')
        .leftJoin('outbox as o', (j) => j.onRef('o.subject_id', '=', 'p.id').on('o.kind', '=', PUSH_KIND))
        .selectAll('p')
        .select(['o.status as o_status', 'o.attempts as o_attempts', 'o.next_attempt_at as o_next', 'o.last_error as o_error'])
        .where('p.tenant_id', '=', tenantId)
        .$if(query.certificate_id !== undefined, (q) => q.where('p.certificate_id', '=', query.certificate_id!))
        .$if(query.rule_id !== undefined, (q) => q.where('p.rule_id', '=', query.rule_id!))
        .$if(query.state !== undefined, (q) => q.where('p.state', '=', query.state!))
        .$if(query.cursor !== undefined && query.cursor !== null, (q) => q.where('p.id', '<', query.cursor!))
        .orderBy('p.id', 'desc')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit).map((r) =>
        toPush(r, r.o_status === null ? null : { status: r.o_status, attempts: Number(r.o_attempts), next_attempt_at: r.o_next ?? '', last_error: r.o_error }),
      );
      return { items, next_cursor: rows.length > limit ? items[items.length - 1]!.id : null };
    },

    getPush: (tenantId, id) => pushWithAction(db, { tenantId, id }),

    async retryPush(tenantId, id, opts) {
      const now = isoNow(opts?.now);
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('pushes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        if (row === undefined) throw new AppError('not_found', `push ${id} not found`);
        const action = await trx.selectFrom('outbox').select(['id', 'status']).where('kind', '=', PUSH_KIND).where('subject_id', '=', id).executeTakeFirst();
        if (action?.status === 'delivering') throw new AppError('conflict', `push ${id} is being worked on now; look again in a moment`);
        if (row.state === 'failed') {
          // A failed create starts again; a create in doubt is looked for first (attempt_started_at stays).
          await trx
            .updateTable('pushes')
            .set({ state: row.remote_id === null ? 'queued' : row.desired === 'present' ? 'awaiting_verification' : 'pushed', verify_until: null, updated_at: now })
            .where('id', '=', id)
            .execute();
        }
        if (action === undefined) await trx.insertInto('outbox').values(outboxRow(ctx, tenantId, row, now)).execute();
        else await rearm(trx, [id], now);
        return (await pushWithAction(trx, { tenantId, id }))!;
      });
    },

    async countFailed(tenantId) {
      const row = await db
        .selectFrom('pushes')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('tenant_id', '=', tenantId)
        .where('state', '=', 'failed')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async subjectFor(tenantId, cert, sourceId) {
      let email = cert.subject.email;
      let username: string | null = null;
      if (cert.person_id !== null) {
        if (email === null) {
          const e = await db
            .selectFrom('person_identities')
            .select('value')
            .where('tenant_id', '=', tenantId)
            .where('person_id', '=', cert.person_id)
            .where('kind', '=', 'email')
            .orderBy('created_at')
            .executeTakeFirst();
          email = e?.value ?? null;
        }
        // The user name exactly as the target wrote it on one of the person's certificates there, else the identity.
        const there = await db
          .selectFrom('certificates')
          .select('subject_json')
          .where('tenant_id', '=', tenantId)
          .where('person_id', '=', cert.person_id)
          .where('source_id', '=', sourceId)
          .orderBy('first_seen_at')
          .limit(1)
          .executeTakeFirst();
        const fromCert = there === undefined ? null : ((JSON.parse(there.subject_json) as { provider_user_id?: string | null }).provider_user_id ?? null);
        if (fromCert !== null) username = fromCert;
        else {
          const id = await db
            .selectFrom('person_identities')
            .select('value')
            .where('tenant_id', '=', tenantId)
            .where('person_id', '=', cert.person_id)
            .where('kind', '=', 'provider_user')
            .where('source_id', '=', sourceId)
            .executeTakeFirst();
          username = id?.value ?? null;
        }
      }
      return { email, username };
    },

    async claimDue(owner, opts) {
      const now = opts.now.toISOString();
      const until = new Date(opts.now.getTime() + opts.leaseMs).toISOString();
      const claimed = await db.transaction().execute(async (trx) => {
        const due = await trx
          .selectFrom('outbox')
          .select(['id', 'subject_id'])
          .where('kind', '=', PUSH_KIND)
          .where((eb) =>
            eb.or([
              eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', now)]),
              // A claim whose holder died mid-step: due again once its lease ran out.
              eb.and([eb('status', '=', 'delivering'), eb('claimed_until', '<', now)]),
            ]),
          )
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(opts.limit)
          .$if(ctx.dialect === 'postgres', (q) => q.forUpdate().skipLocked())
          .execute();
        if (due.length === 0) return [];
        const ids = due.map((d) => d.id);
        await trx.updateTable('outbox').set({ status: 'delivering', claimed_by: owner, claimed_until: until }).where('id', 'in', ids).execute();
        const actions = await trx.selectFrom('outbox').select(['id', 'tenant_id', 'attempts', 'subject_id']).where('id', 'in', ids).execute();
        const pushes = await trx.selectFrom('pushes').selectAll().where('id', 'in', due.map((d) => d.subject_id)).execute();
        const ruleIds = [...new Set(pushes.map((p) => p.rule_id))];
        const rules = ruleIds.length === 0 ? [] : await trx.selectFrom('push_rules').selectAll().where('id', 'in', ruleIds).execute();
        return { actions, pushes, rules };
      });
      if (Array.isArray(claimed)) return [];
      const pushes = new Map(claimed.pushes.map((p) => [p.id, p]));
      const rules = new Map(claimed.rules.map((r) => [r.id, toRule(r)]));
      const out: ClaimedPush[] = [];
      for (const a of claimed.actions) {
        const p = pushes.get(a.subject_id);
        if (p === undefined) continue;
        out.push({ outbox_id: a.id, tenant_id: a.tenant_id, attempts: Number(a.attempts), push: toPush(p, null), rule: rules.get(p.rule_id) ?? null });
      }
      return out;
    },

    async beginCreate(outboxId, owner, pushId, sent, opts) {
      const now = opts.now.toISOString();
      return db.transaction().execute(async (trx) => {
        const held = await trx.selectFrom('outbox').select('id').where('id', '=', outboxId).where('claimed_by', '=', owner).where('status', '=', 'delivering').executeTakeFirst();
        if (held === undefined) return false;
        await trx
          .updateTable('pushes')
          .set({ state: 'pushing', sent_json: JSON.stringify(sent), attempt_started_at: now, last_error: null, updated_at: now })
          .where('id', '=', pushId)
          .execute();
        return true;
      });
    },

    async finishStep(outboxId, owner, result, opts) {
      const now = opts.now.toISOString();
      return db.transaction().execute(async (trx) => {
        const action = await trx
          .selectFrom('outbox')
          .select(['subject_id', 'tenant_id', 'attempts'])
          .where('id', '=', outboxId)
          .where('claimed_by', '=', owner)
          .where('status', '=', 'delivering')
          .executeTakeFirst();
        if (action === undefined) return false;
        if (Object.keys(result.push).length > 0) {
          await trx
            .updateTable('pushes')
            .set({ ...result.push, updated_at: now })
            .where('id', '=', action.subject_id)
            .execute();
        }
        const push = await trx.selectFrom('pushes').select(['desired']).where('id', '=', action.subject_id).executeTakeFirst();
        const changedMeanwhile = push !== undefined && push.desired !== result.acted_on;
        const o = result.outbox;
        const attempts = Number(action.attempts) + (o.kind === 'retry' && o.counts === false ? 0 : 1);
        const error = o.kind === 'succeeded' ? null : (o.error ?? null);
        if (changedMeanwhile || o.kind === 'retry') {
          await trx
            .updateTable('outbox')
            .set({
              status: 'pending',
              attempts: changedMeanwhile ? 0 : attempts,
              next_attempt_at: changedMeanwhile || o.kind !== 'retry' ? now : o.next_attempt_at,
              claimed_by: null,
              claimed_until: null,
              last_attempt_at: now,
              last_error: error,
              last_status_code: o.kind === 'succeeded' ? null : (o.status_code ?? null),
              finished_at: null,
            })
            .where('id', '=', outboxId)
            .execute();
        } else {
          await trx
            .updateTable('outbox')
            .set({
              status: o.kind,
              attempts,
              claimed_by: null,
              claimed_until: null,
              last_attempt_at: now,
              last_error: error,
              last_status_code: o.kind === 'failed' ? (o.status_code ?? null) : null,
              finished_at: now,
            })
            .where('id', '=', outboxId)
            .execute();
        }
        if (result.event !== undefined) await recordEvents(ctx, trx, action.tenant_id, [result.event], now);
        return true;
      });
    },

    async takeSlot(key, intervalMs, opts) {
      const now = opts.now.toISOString();
      const next = new Date(opts.now.getTime() + intervalMs).toISOString();
      return db.transaction().execute(async (trx) => {
        await trx
          .insertInto('push_pacing')
          .values({ key, next_slot_at: '0000' })
          .onConflict((oc) => oc.column('key').doNothing())
          .execute();
        // One conditional UPDATE: of two processes wanting the same slot, one changes the row, the other none.
        const taken = await trx
          .updateTable('push_pacing')
          .set({ next_slot_at: next })
          .where('key', '=', key)
          .where('next_slot_at', '<=', now)
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) === 1) return { ok: true as const };
        const row = await trx.selectFrom('push_pacing').select('next_slot_at').where('key', '=', key).executeTakeFirstOrThrow();
        return { ok: false as const, at: row.next_slot_at };
      });
    },

    nextDue: () => nextDueOf(ctx, PUSH_KIND),
  };
}
