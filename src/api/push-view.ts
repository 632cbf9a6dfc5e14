/**
 * Push rules and pushes as the API answers them (GET /v1/push-rules, /v1/pushes). zod only, like webhook-view.ts: the
 * web UI takes its types from here.
 */
import { z } from 'zod';
import { PUSH_STATES } from '../store/index.ts';

export const pushRuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    paused: z.boolean().describe('A paused rule plans no new pushes'),
    match: z
      .union([z.object({ requirement_id: z.string() }), z.object({ achievement: z.record(z.string(), z.unknown()) })])
      .describe('Which certificates: those satisfying a requirement, or those for one achievement'),
    sources: z.array(z.string()).describe('Source slugs the certificates come from; [] = any'),
    target_source: z.string().describe('The source (slug) they are pushed to'),
    target_provider: z.string(),
    target: z.record(z.string(), z.unknown()).describe("The target's options"),
    target_description: z.string().describe('What on the target, for people: "certification 42", "program 3f2a..."'),
    usernames: z.record(z.string(), z.string()).describe('Open edX: email -> username for people with no linked Open edX identity'),
    origin: z.enum(['api', 'config']).describe('config: from certhub.yaml (applied again on start)'),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .describe('A push rule');

export const pushSchema = z
  .object({
    id: z.string(),
    rule_id: z.string(),
    certificate_id: z.string().describe('The original certificate (GET /v1/certificates/{id})'),
    target_source_id: z.string(),
    target: z.string().describe("What on the target: 'certification:42', 'program:<uuid>'"),
    desired: z.enum(['present', 'revoked']).describe('What certhub wants there: the copy present, or revoked (the original was revoked, deleted or superseded)'),
    state: z
      .enum(PUSH_STATES)
      .describe(
        'queued, pushing (a create sent, outcome not yet known), awaiting_verification (posted, not visible yet: Springest verifies certifications by hand), pushed, revoked, failed (see last_error; retry), cancelled',
      ),
    remote_id: z.string().nullable().describe("The target's id of the copy (Springest certificate id, Open edX credential uuid)"),
    sent: z.record(z.string(), z.unknown()).nullable().describe('What the last create sent (email, certification, dates / username, credential)'),
    verify_until: z.string().nullable().describe('awaiting_verification: when it fails if still not visible'),
    last_error: z.string().nullable(),
    pushed_at: z.string().nullable(),
    verified_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    action: z
      .object({
        status: z.string().describe('The outbox action: pending, delivering, succeeded, failed, cancelled'),
        attempts: z.number().int(),
        next_attempt_at: z.string().nullable(),
        last_error: z.string().nullable(),
      })
      .nullable(),
  })
  .describe("A certificate's push to one target");
