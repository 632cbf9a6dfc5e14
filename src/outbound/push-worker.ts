/**
 * Brings pushes in line (issue 16): claims the outbox's `push` rows and, for each, does what its push needs next on
 * the target platform, through the target provider's push capability (providers/push.ts):
 *
 * - wanted present, nothing there yet: prepare what to send, take a posting slot when the platform is paced (shared by
 *   every process through the store), mark the create as sent (committed BEFORE the request), create, then record
 *   the target's id. A process that dies in between leaves the mark: the next attempt first looks at the target for
 *   what the lost one may have created (platforms whose create is an upsert are simply sent again);
 * - waiting for verification (Springest): look until the copy shows, or fail after the target's verify window;
 * - wanted revoked (the original was revoked, deleted or superseded): PATCH the copy to revoked; awarded again: back.
 *
 * Every outcome is recorded with the claim still held; push.succeeded / push.failed events go out with it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Certificate } from '../domain/certificate.ts';
import { AppError, describeError, isAppError } from '../errors.ts';
import { certificateFile } from '../files/certificate-file.ts';
import type { SourceConnector, SourceSession } from '../providers/connector.ts';
import type { PushCapability, PushContext, PushLook, PushRequest } from '../providers/push.ts';
import { findProvider as registryProvider } from '../providers/registry.ts';
import type { AnyProvider } from '../providers/provider.ts';
import type { ClaimedPush, PushStepResult, Source, Store } from '../store/index.ts';
import { createWorkerLoop } from './loop.ts';
import { nextAttemptDelay } from './webhook-worker.ts';

export interface PushWorkerOptions {
  store: Store;
  connector: SourceConnector;
  logger?: Logger;
  now?: () => Date;
  random?: () => number;
  /** Actions claimed (and worked on in parallel) at a time; default 10. */
  batch?: number;
  /** How long a claim holds before another worker may take it over; default 2 minutes. */
  leaseMs?: number;
  /** Longest sleep between looks at the outbox; default 1 s. */
  pollMs?: number;
  /** Default: the provider registry. */
  findProvider?: (id: string) => AnyProvider | null;
  /** Told of every step (the hub counts them in /metrics). */
  onStep?: (outcome: PushStepResult['outbox']['kind']) => void;
}

export interface PushWorker {
  /** One claim-and-work pass; the number of actions worked on. */
  runOnce(): Promise<number>;
  wake(): void;
  start(): void;
  stop(): Promise<void>;
}

/** A copy waiting for verification is looked for after 1, 2, 4 ... minutes, then hourly. */
export function verifyDelayMs(looks: number): number {
  return Math.min(60 * 60_000, 60_000 * 2 ** Math.max(0, looks));
}
/** Springest answers too many posts with a 400 like any other refusal: a 400 is tried this often before it counts. */
const TRIES_OF_A_400 = 3;
const RATE_400_WAIT_MS = 60_000;
const DEFAULT_VERIFY_WITHIN_MS = 30 * 86_400_000;

const statusOf = (err: unknown): number | null => {
  if (!isAppError(err)) return null;
  const status = (err.details as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : null;
};
const retryAfterOf = (err: unknown): number | null => {
  if (!isAppError(err)) return null;
  const ms = (err.details as { retry_after_ms?: unknown } | undefined)?.retry_after_ms;
  return typeof ms === 'number' ? ms : null;
};
/** The provider's own words of a refusal (its error body), kept short; already scrubbed of secrets by the client. */
const refusalText = (err: unknown): string => {
  const body = isAppError(err) ? (err.details as { body?: unknown } | undefined)?.body : undefined;
  const text = typeof body === 'string' ? body.trim().slice(0, 300) : '';
  return text === '' ? describeError(err) : `${describeError(err)}: ${text}`;
};

/** A target source opened for one pass: its session, and what the provider's push keeps for the pass (memo). */
interface OpenedTarget {
  session: SourceSession;
  memo: PushContext<unknown>['memo'];
}

interface Pass {
  waiting: Map<string, number>;
  open(source: Source): Promise<OpenedTarget>;
}

export function createPushWorker(opts: PushWorkerOptions): PushWorker {
  const { store, connector, logger } = opts;
  const now = opts.now ?? (() => new Date());
  const random = opts.random ?? Math.random;
  const batch = opts.batch ?? 10;
  const leaseMs = opts.leaseMs ?? 120_000;
  const pollMs = opts.pollMs ?? 1000;
  const findProvider = opts.findProvider ?? registryProvider;
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const later = (ms: number): string => new Date(now().getTime() + ms).toISOString();

  async function step(c: ClaimedPush, opened: OpenedTarget, cap: PushCapability<unknown>, waiting: Map<string, number>): Promise<PushStepResult | null> {
    const { session } = opened;
    const { push, rule } = c;
    const acted_on = push.desired;
    const ctx: PushContext<unknown> = { config: session.config, http: session.http, now, memo: opened.memo };
    const target = rule === null ? null : (cap.targetSchema.parse(rule.target));
    const event = (type: 'push.succeeded' | 'push.failed', data: Record<string, unknown>) => ({
      type,
      occurred_at: now().toISOString(),
      data: { push_id: push.id, certificate_id: push.certificate_id, rule_id: push.rule_id, target_source_id: push.target_source_id, target: push.target_key, ...data },
    });
    const succeeded = (fields: PushStepResult['push'], action: 'created' | 'revoked' | 'awarded' | null, remoteId: string | null): PushStepResult => ({
      acted_on,
      push: { last_error: null, ...fields },
      outbox: { kind: 'succeeded' },
      ...(action === null ? {} : { event: event('push.succeeded', { action, remote_id: remoteId }) }),
    });
    const failed = (error: string, fields: PushStepResult['push'] = {}, statusCode: number | null = null): PushStepResult => ({
      acted_on,
      push: { state: 'failed', last_error: error, ...fields },
      outbox: { kind: 'failed', error, status_code: statusCode },
      event: event('push.failed', { error }),
    });
    /** A failure that may pass: again after the backoff schedule, failed when it is used up. */
    const retry = (err: unknown, fields: PushStepResult['push'] = {}): PushStepResult => {
      const error = refusalText(err);
      const wait = nextAttemptDelay(c.attempts + 1, retryAfterOf(err), random);
      if (wait === null) return failed(`${error} (gave up after ${c.attempts + 1} attempts)`, fields, statusOf(err));
      return { acted_on, push: { last_error: error, ...fields }, outbox: { kind: 'retry', next_attempt_at: later(wait), error, status_code: statusOf(err) } };
    };

    // ---- wanted revoked: the original was revoked, deleted or superseded -------------------------------------------
    if (push.desired === 'revoked') {
      if (push.state === 'revoked' || push.state === 'cancelled') return succeeded({}, null, null);
      let remoteId = push.remote_id;
      if (remoteId === null && push.attempt_started_at !== null && push.sent !== null && target !== null) {
        // A create in doubt: find what it made, if anything, before saying nothing is there.
        const look = cap.upsert ? null : await cap.look(ctx, target, push.sent, { remote_id: null, since: push.attempt_started_at });
        if (look?.kind === 'found') remoteId = look.remote_id;
        else if (cap.upsert) remoteId = (await cap.create(ctx, target, push.sent, await request(c))).remote_id;
      }
      if (remoteId === null) return succeeded({ state: 'cancelled', attempt_started_at: null }, null, null);
      if (cap.setStatus === undefined) {
        return {
          acted_on,
          push: {
            // Verified copies stay pushed; one not visible yet is not looked for any more.
            state: push.state === 'pushed' ? 'pushed' : 'cancelled',
            remote_id: remoteId,
            attempt_started_at: null,
            last_error: `${session.provider.title} has no way to revoke or delete a certificate through its API: remove ${remoteId} there by hand`,
          },
          outbox: { kind: 'succeeded' },
        };
      }
      try {
        await cap.setStatus(ctx, remoteId, 'revoked');
      } catch (err) {
        return retry(err, { remote_id: remoteId });
      }
      return succeeded({ state: 'revoked', remote_id: remoteId, attempt_started_at: null }, 'revoked', remoteId);
    }

    // ---- wanted present ------------------------------------------------------------------------------------------------
    if (push.state === 'pushed') return succeeded({}, null, null);
    if (target === null) return failed('its push rule was deleted before the certificate was pushed');
    if (push.state === 'revoked' && push.remote_id !== null && cap.setStatus !== undefined) {
      try {
        await cap.setStatus(ctx, push.remote_id, 'awarded');
      } catch (err) {
        return retry(err);
      }
      return succeeded({ state: 'pushed', pushed_at: now().toISOString() }, 'awarded', push.remote_id);
    }

    // A create in doubt, or a copy the target already has (awaiting verification, or left there when the original
    // was revoked and now wanted again): looked for, never posted a second time.
    const inDoubt = push.attempt_started_at !== null && push.sent !== null;
    if (!cap.upsert && push.sent !== null && (inDoubt || push.remote_id !== null)) {
      // A look that fails (the platform down for a moment) cannot tell either: waited out like a hidden copy.
      const look: PushLook = await cap
        .look(ctx, target, push.sent, { remote_id: push.remote_id, since: push.attempt_started_at ?? push.pushed_at })
        .catch((err: unknown) => ({ kind: 'hidden' as const, reason: `could not look: ${describeError(err)}` }));
      if (look.kind === 'found') {
        const at = now().toISOString();
        return succeeded({ state: 'pushed', remote_id: look.remote_id, attempt_started_at: null, verified_at: at, pushed_at: push.pushed_at ?? at }, 'created', look.remote_id);
      }
      if (look.kind === 'hidden') {
        const verifyUntil = push.verify_until ?? later(cap.verifyWithinMs?.(target) ?? DEFAULT_VERIFY_WITHIN_MS);
        if (Date.parse(verifyUntil) <= now().getTime()) {
          return failed(`not visible at ${session.provider.title} by ${verifyUntil}: ${look.reason}`, { verify_until: verifyUntil });
        }
        return {
          acted_on,
          push: { state: 'awaiting_verification', verify_until: verifyUntil, last_error: null },
          outbox: { kind: 'retry', next_attempt_at: later(verifyDelayMs(c.attempts)), error: look.reason },
        };
      }
      if (push.remote_id !== null) {
        return failed(
          `${session.provider.title} no longer lists certificate ${push.remote_id} although it would show it (rejected or removed there); retry to post it again`,
          { remote_id: null, attempt_started_at: null },
        );
      }
      // Absent: the lost attempt created nothing; creating now makes the one copy.
    }

    let req: PushRequest;
    let sent: Record<string, unknown>;
    try {
      req = await request(c);
      sent = cap.prepare(target, req);
    } catch (err) {
      if (isAppError(err) && (err.code === 'invalid_request' || err.code === 'not_found')) return failed(err.message);
      throw err;
    }
    const pacing = cap.pacing?.(session.config);
    if (pacing !== undefined) {
      const key = `push:${createHash('sha256').update(pacing.key).digest('hex')}`;
      const slot = await store.pushes.takeSlot(key, pacing.intervalMs, { now: now() });
      if (!slot.ok) {
        // Not this one's turn: due again when its slot comes, without counting as an attempt. The pass's waiting
        // posts for one key queue up one interval apart instead of all asking again at the next slot.
        const queued = waiting.get(key) ?? 0;
        waiting.set(key, queued + 1);
        const at = new Date(Date.parse(slot.at) + queued * pacing.intervalMs).toISOString();
        return { acted_on, push: {}, outbox: { kind: 'retry', next_attempt_at: at, counts: false, error: null } };
      }
    }
    if (cap.needsFile === true) {
      // Read once the slot is ours (a post waiting for its turn reads nothing), and before the create is marked as
      // sent: a PDF that cannot be had means nothing was posted.
      try {
        await req.file();
      } catch (err) {
        if (isAppError(err) && (err.code === 'invalid_request' || err.code === 'not_found')) return failed(err.message);
        return retry(err);
      }
    }
    if (!(await store.pushes.beginCreate(c.outbox_id, owner, push.id, sent, { now: now() }))) return null;
    try {
      const created = await cap.create(ctx, target, sent, req);
      const at = now().toISOString();
      if (created.preexisting === true) {
        // The platform's own record, there before this push: not a copy certhub owns, so never revoked by it.
        return {
          acted_on,
          push: { state: 'pushed', remote_id: null, attempt_started_at: null, pushed_at: at, verified_at: at, last_error: `${session.provider.title} already had this (${created.remote_id}) before certhub pushed it: left as it is, and not revoked by certhub` },
          outbox: { kind: 'succeeded' },
          event: event('push.succeeded', { action: 'already_there', remote_id: created.remote_id }),
        };
      }
      if (created.visible) {
        return succeeded({ state: 'pushed', remote_id: created.remote_id, attempt_started_at: null, pushed_at: at, verified_at: at }, 'created', created.remote_id);
      }
      return {
        acted_on,
        push: {
          state: 'awaiting_verification',
          remote_id: created.remote_id,
          attempt_started_at: null,
          pushed_at: at,
          verify_until: later(cap.verifyWithinMs?.(target) ?? DEFAULT_VERIFY_WITHIN_MS),
          last_error: null,
        },
        outbox: { kind: 'retry', next_attempt_at: later(0), counts: false, error: null },
      };
    } catch (err) {
      const status = statusOf(err);
      if (isAppError(err) && err.code === 'provider_error' && status !== null && status >= 400 && status < 500 && status !== 429) {
        // Refused: nothing was created. A 400 may be the platform's "too many posts" (Springest): tried a few times.
        const notCreated = { attempt_started_at: null, state: 'queued' as const };
        if (status === 400 && c.attempts + 1 < TRIES_OF_A_400) {
          return { acted_on, push: { ...notCreated, last_error: refusalText(err) }, outbox: { kind: 'retry', next_attempt_at: later(RATE_400_WAIT_MS), error: refusalText(err), status_code: status } };
        }
        if (status === 401 || status === 403) return retry(err, notCreated);
        return failed(refusalText(err), { attempt_started_at: null }, status);
      }
      // No answer, a 5xx, a lost connection: the create may have happened. The mark stays: the next attempt looks first.
      return retry(err);
    }
  }

  async function request(c: ClaimedPush): Promise<PushRequest> {
    const cert = await store.certificates.getCertificate(c.tenant_id, c.push.certificate_id);
    if (cert === null) throw new AppError('not_found', `certificate ${c.push.certificate_id} is gone`);
    const subject = await store.pushes.subjectFor(c.tenant_id, cert, c.push.target_source_id);
    const mapped = subject.email === null ? undefined : c.rule?.usernames[subject.email.trim().toLowerCase()];
    let file: Promise<Buffer> | null = null;
    return {
      certificate: cert,
      email: subject.email,
      username: subject.username ?? mapped ?? null,
      // Read once per step (the create takes the bytes read before it was marked as sent).
      file: () => (file ??= pdfOf(c.tenant_id, cert)),
    };
  }

  async function pdfOf(tenantId: string, cert: Certificate): Promise<Buffer> {
    if (cert.file.sha256 === null && !cert.file.available) {
      throw new AppError('invalid_request', `certificate ${cert.id} has no PDF (${cert.provider} offers no file for it), and the target needs one`);
    }
    const blob = await certificateFile({ store, connector, tenantId, cert });
    return blob.bytes;
  }

  async function handle(c: ClaimedPush, pass: Pass): Promise<void> {
    let result: PushStepResult | null;
    try {
      const source = await store.sources.getSource(c.tenant_id, c.push.target_source_id);
      if (source === null) throw new AppError('not_found', `the target source ${c.push.target_source_id} is gone`);
      const cap = findProvider(source.provider)?.push;
      if (cap === undefined) throw new AppError('invalid_config', `${source.provider} takes no pushes in this build of certhub`);
      result = await step(c, await pass.open(source), cap as PushCapability<unknown>, pass.waiting);
    } catch (err) {
      const error = describeError(err);
      const permanent = isAppError(err) && (err.code === 'not_found' || err.code === 'invalid_config');
      const wait = permanent ? null : nextAttemptDelay(c.attempts + 1, retryAfterOf(err), random);
      result =
        wait === null
          ? {
              acted_on: c.push.desired,
              push: { state: 'failed', last_error: error },
              outbox: { kind: 'failed', error },
              event: { type: 'push.failed', occurred_at: now().toISOString(), data: { push_id: c.push.id, certificate_id: c.push.certificate_id, rule_id: c.push.rule_id, target_source_id: c.push.target_source_id, target: c.push.target_key, error } },
            }
          : { acted_on: c.push.desired, push: { last_error: error }, outbox: { kind: 'retry', next_attempt_at: later(wait), error } };
    }
    if (result === null) return;
    const kept = await store.pushes.finishStep(c.outbox_id, owner, result, { now: now() });
    opts.onStep?.(result.outbox.kind);
    logger?.info(
      { push: c.push.id, certificate: c.push.certificate_id, target: c.push.target_key, desired: c.push.desired, state: result.push.state ?? c.push.state, outcome: result.outbox.kind, kept },
      'push step',
    );
  }

  async function runOnce(): Promise<number> {
    const claimed = await store.pushes.claimDue(owner, { now: now(), limit: batch, leaseMs });
    // One session per target source for the pass (an Open edX token serves every push of the batch), and per paced
    // key how many of the pass's posts found the slot taken (each then waits one interval more).
    const sessions = new Map<string, Promise<OpenedTarget>>();
    const pass: Pass = {
      waiting: new Map(),
      open(source) {
        let opened = sessions.get(source.id);
        if (opened === undefined) {
          const memo = new Map<string, unknown>();
          opened = connector.open(source).then((session) => ({
            session,
            memo: <T>(key: string, make: () => T): T => {
              if (!memo.has(key)) memo.set(key, make());
              return memo.get(key) as T;
            },
          }));
          sessions.set(source.id, opened);
        }
        return opened;
      },
    };
    try {
      await Promise.all(claimed.map((c) => handle(c, pass)));
    } finally {
      for (const opened of sessions.values()) await opened.then((o) => o.session.close()).catch(() => undefined);
    }
    return claimed.length;
  }

  const loop = createWorkerLoop({
    pass: runOnce,
    pollMs,
    // A paced post's slot is seconds away: sleep until the next action is due, at most pollMs.
    nextDueInMs: async () => {
      const due = await store.pushes.nextDue();
      return due === null ? null : Date.parse(due) - now().getTime();
    },
    ...(logger === undefined ? {} : { logger }),
    what: 'push worker pass',
  });
  return { runOnce, ...loop };
}
