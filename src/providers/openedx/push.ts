/**
 * Pushing to Open edX Credentials: POST /api/v2/credentials/ awards a credential for a username and a program or
 * course run. Upstream's UserCredentialCreationSerializer updates or creates on (username, credential), so sending
 * the same award twice changes one record (same uuid): a create after a crash is simply sent again. A revoked,
 * deleted or superseded original is PATCHed to `revoked`; awarded again, PATCHed back to `awarded`.
 */
import { z } from 'zod';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { AppError } from '../../errors.ts';
import type { PushCapability, PushContext } from '../push.ts';
import { createCredential, createOpenedxSession, lookupCredential, setCredentialStatus, type CreateCredentialInput, type OpenedxSession } from './client.ts';
import type { OpenedxConfig } from './schema.ts';

export const openedxPushTarget = z
  .strictObject({
    program_uuid: z.string().uuid('must be a program uuid').optional().describe('The program the credential is for'),
    course_run_key: z.string().min(1).max(255).optional().describe('Or the course run, e.g. course-v1:edX+DemoX+Demo_Course'),
    mode: z.string().min(1).max(255).optional().describe("The course run certificate's mode (e.g. verified); course runs only"),
  })
  .refine((t) => (t.program_uuid === undefined) !== (t.course_run_key === undefined), { message: 'give program_uuid or course_run_key (one of them)' })
  .refine((t) => t.mode === undefined || t.course_run_key !== undefined, { message: 'mode goes with course_run_key' });
export type OpenedxPushTarget = z.output<typeof openedxPushTarget>;

/** Open edX's clock and certhub's may differ: a credential created this long before the attempt is not the attempt's. */
const CLOCK_SLACK_MS = 10 * 60_000;

interface Sent {
  username: string;
  credential: CreateCredentialInput['credential'];
}

/** One OpenedxSession (so one token) for every push of the worker's pass over this source. */
function sessionOf(ctx: PushContext<OpenedxConfig>): OpenedxSession {
  return ctx.memo('openedx-session', () => createOpenedxSession(ctx.http, ctx.config, ctx.now));
}

export const openedxPush: PushCapability<OpenedxConfig, OpenedxPushTarget> = {
  targetSchema: openedxPushTarget,
  targetKey: (t) => (t.program_uuid !== undefined ? `program:${t.program_uuid.toLowerCase()}` : `course_run:${t.course_run_key}:${t.mode ?? ''}`),
  describeTarget: (t) => (t.program_uuid !== undefined ? `program ${t.program_uuid}` : `course run ${t.course_run_key}${t.mode === undefined ? '' : ` (${t.mode})`}`),
  upsert: true,

  prepare(target, req) {
    if (req.username === null) {
      throw new AppError(
        'invalid_request',
        `no Open edX username for certificate ${req.certificate.id}: its person has no linked Open edX identity and the rule's usernames do not map ${req.email ?? 'its email'}`,
      );
    }
    const credential: Sent['credential'] =
      target.program_uuid !== undefined ? { program_uuid: target.program_uuid } : { course_run_key: target.course_run_key!, ...(target.mode === undefined ? {} : { mode: target.mode }) };
    return { username: req.username, credential } satisfies Sent;
  },

  async create(ctx, _target, sentValue) {
    const sent = sentValue as unknown as Sent;
    const session = sessionOf(ctx);
    const sentAt = ctx.now().getTime();
    const created = await createCredential(session, { username: sent.username, credential: sent.credential, status: 'awarded' }, ctx.signal);
    // The upsert found a credential the learner had long before this push (awarded by Open edX itself, or revoked
    // there): not certhub's copy. Within the slack it is this push's own earlier attempt (a crash, a lost answer).
    const createdAt = Date.parse(created.created);
    const preexisting = Number.isFinite(createdAt) && createdAt < sentAt - CLOCK_SLACK_MS;
    return { remote_id: created.uuid, visible: true, preexisting };
  },

  async look(ctx, _target, _sent, known) {
    if (known.remote_id === null) return { kind: 'absent' };
    const session = sessionOf(ctx);
    const found = await lookupCredential(session, known.remote_id, ctx.signal);
    if (found.kind === 'found') return { kind: 'found', remote_id: found.credential.uuid };
    return found.kind === 'gone' ? { kind: 'absent' } : { kind: 'hidden', reason: found.reason };
  },

  async setStatus(ctx, remoteId, status) {
    const session = sessionOf(ctx);
    await setCredentialStatus(session, remoteId, status, ctx.signal);
  },

  recognizes(cert: NormalizedCertificate, sentValue) {
    const sent = sentValue as unknown as Sent;
    if ((cert.subject.provider_user_id ?? '').toLowerCase() !== sent.username.toLowerCase()) return false;
    const c = sent.credential;
    return 'program_uuid' in c
      ? cert.achievement.type === 'program' && cert.achievement.external_id.toLowerCase() === c.program_uuid.toLowerCase()
      : cert.achievement.type === 'course_run' && cert.achievement.external_id === c.course_run_key;
  },
};
