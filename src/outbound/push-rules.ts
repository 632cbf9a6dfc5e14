/**
 * A push rule as people write it (the API, the web UI, certhub.yaml `push_rules:`), checked and resolved against the
 * store and the target's provider: the target source by slug, the requirement by id or name, the target options by
 * the provider's push capability (which also names the target, the push's idempotency key).
 */
import { z } from 'zod';
import { achievementMatcherSchema } from '../domain/requirement.ts';
import { AppError } from '../errors.ts';
import { findProvider } from '../providers/registry.ts';
import type { PushRule, PushRuleInput, Store } from '../store/index.ts';

export const pushRuleMatchSchema = z.union([
  z.strictObject({ requirement: z.string().min(1).max(200).describe('A requirement (id or name): certificates that satisfy it are pushed') }),
  z.strictObject({ achievement: achievementMatcherSchema.describe('Or one achievement: certificates for it are pushed') }),
]);

const ruleFields = {
  name: z.string().trim().min(1).max(200),
  paused: z.boolean().describe('A paused rule plans no new pushes (pushes under way go on)'),
  match: pushRuleMatchSchema,
  sources: z.array(z.string().min(1).max(100)).max(50).describe('Source slugs the certificates come from; [] = any source'),
  target_source: z.string().min(1).max(100).describe('The source (slug) the certificates are pushed to: a Springest or Open edX source'),
  target: z
    .record(z.string(), z.unknown())
    .describe("The target's options. Springest: certification_id (verify_within_days, conversion_id). Open edX: program_uuid, or course_run_key (mode)"),
  usernames: z
    .record(z.string().min(3).max(320), z.string().min(1).max(150))
    .describe('Open edX: email -> username for people with no linked Open edX identity'),
};

export const pushRuleBodySchema = z.strictObject({
  ...ruleFields,
  paused: ruleFields.paused.default(false),
  sources: ruleFields.sources.default([]),
  usernames: ruleFields.usernames.default({}),
});

/** A change: fields left out stay as they are (no defaults). */
export const pushRulePatchSchema = z
  .strictObject({
    name: ruleFields.name.optional(),
    paused: ruleFields.paused.optional(),
    match: ruleFields.match.optional(),
    sources: ruleFields.sources.optional(),
    target_source: ruleFields.target_source.optional(),
    target: ruleFields.target.optional(),
    usernames: ruleFields.usernames.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one field to change' });

export type PushRuleBody = z.input<typeof pushRuleBodySchema>;

/** The rule as the API shows it: the store's, with the target source's slug and provider. */
export interface PushRuleView extends Omit<PushRule, 'match'> {
  match: { requirement_id: string } | { achievement: Record<string, unknown> };
  target_source: string;
  target_provider: string;
  target_description: string;
}

/** Checks `body` and resolves it to what the store keeps. AppError('invalid_request') names what is wrong. */
export async function resolvePushRule(store: Store, tenantId: string, raw: unknown): Promise<PushRuleInput> {
  const parsed = pushRuleBodySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('invalid_request', `push rule: ${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  const body = parsed.data;
  const target = await store.sources.getSourceBySlug(tenantId, body.target_source);
  if (target === null) throw new AppError('invalid_request', `push rule "${body.name}": no source ${body.target_source}`);
  const cap = findProvider(target.provider)?.push;
  if (cap === undefined) {
    throw new AppError('invalid_request', `push rule "${body.name}": ${target.provider} (source ${target.slug}) takes no pushed certificates; Springest and Open edX do`);
  }
  const options = cap.targetSchema.safeParse(body.target);
  if (!options.success) {
    const issue = options.error.issues[0]!;
    throw new AppError('invalid_request', `push rule "${body.name}": target${issue.path.length > 0 ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
  }
  for (const slug of body.sources) {
    if ((await store.sources.getSourceBySlug(tenantId, slug)) === null) throw new AppError('invalid_request', `push rule "${body.name}": no source ${slug}`);
    if (slug === target.slug) throw new AppError('invalid_request', `push rule "${body.name}": source ${slug} is the target itself`);
  }
  let match: PushRuleInput['match'];
  if ('requirement' in body.match) {
    const wanted = body.match.requirement;
    const reqs = await store.requirements.listRequirements(tenantId);
    const req = reqs.find((r) => r.id === wanted) ?? reqs.find((r) => r.name === wanted);
    if (req === undefined) throw new AppError('invalid_request', `push rule "${body.name}": no requirement ${wanted}`);
    match = { requirement_id: req.id };
  } else {
    match = { achievement: body.match.achievement };
  }
  const usernames: Record<string, string> = {};
  for (const [email, username] of Object.entries(body.usernames)) usernames[email.trim().toLowerCase()] = username.trim();
  return {
    name: body.name,
    paused: body.paused,
    match,
    sources: body.sources,
    target_source_id: target.id,
    target: options.data as Record<string, unknown>,
    target_key: cap.targetKey(options.data),
    usernames,
  };
}

export async function viewPushRule(store: Store, rule: PushRule): Promise<PushRuleView> {
  const source = await store.sources.getSource(rule.tenant_id, rule.target_source_id);
  const cap = source === null ? undefined : findProvider(source.provider)?.push;
  let description = rule.target_key;
  if (cap !== undefined) {
    const parsed = cap.targetSchema.safeParse(rule.target);
    if (parsed.success) description = cap.describeTarget(parsed.data);
  }
  return {
    ...rule,
    match: rule.match,
    target_source: source?.slug ?? rule.target_source_id,
    target_provider: source?.provider ?? 'unknown',
    target_description: description,
  };
}
