/**
 * Pushing to Springest (springest-certificates.txt): POST /users/certificates (multipart, the PDF as a raw file, at
 * most 30 a minute per key). A posted certificate is "only visible via GET calls if the linked certification_id is
 * verified by a Springest employee first": the push waits in awaiting_verification until the GET (filtered by email
 * and certification) shows it, matched by its id, or after a create in doubt by email + certification + dates. Springest
 * has no call to revoke or delete a certificate, so a revoked original is left there (the push says so).
 */
import { z } from 'zod';
import { calendarDate } from '../../domain/validity.ts';
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { AppError } from '../../errors.ts';
import type { PushCapability, PushContext } from '../push.ts';
import { listCertificates, listCertifications, postCertificate } from './client.ts';
import type { SpringestConfig } from './schema.ts';
import type { Limiter } from '../http/limiter.ts';

/** Posts are paced by the push worker across processes (push_pacing, pacing below): nothing more to wait for here. */
const UNPACED: Limiter = { acquire: () => Promise.resolve() };

export const springestPushTarget = z.strictObject({
  certification_id: z
    .union([z.number().int().positive(), z.string().regex(/^\d{1,12}$/, 'must be a Springest certification id (digits)')])
    .transform(String)
    .describe('The Springest certification the certificates are posted as'),
  conversion_id: z.number().int().positive().optional().describe('Optional: the Springest conversion (booking) the certificates belong to'),
  verify_within_days: z
    .number()
    .int()
    .min(1)
    .max(365)
    .default(30)
    .describe('How long a posted certificate may wait for Springest to verify its certification before the push fails'),
});
export type SpringestPushTarget = z.output<typeof springestPushTarget>;

/** "max 30 certificates per minute": certhub posts at 28 a minute, so late arrivals never make a 31st in a minute. */
export const SPRINGEST_POST_INTERVAL_MS = Math.ceil(60_000 / 28);
/** Springest's clock and certhub's may differ: a copy created this long before the attempt still counts as its. */
const CLOCK_SLACK_MS = 10 * 60_000;

interface Sent {
  certification_id: string;
  email: string;
  valid_from: string;
  valid_until: string | null;
}

const sameEmail = (a: string | null | undefined, b: string): boolean => (a ?? '').trim().toLowerCase() === b.trim().toLowerCase();
const day = (d: string | null | undefined): string | null => (d === null || d === undefined ? null : d.slice(0, 10));

function isCopy(c: { certification_id: string | number; valid_from?: string | null; valid_until?: string | null; created_at: string; user: { email?: string | null } }, sent: Sent, since: string | null): boolean {
  if (String(c.certification_id) !== sent.certification_id || !sameEmail(c.user.email, sent.email)) return false;
  if (day(c.valid_from) !== sent.valid_from || day(c.valid_until) !== sent.valid_until) return false;
  return since === null || Date.parse(c.created_at) >= Date.parse(since) - CLOCK_SLACK_MS;
}

function sentOf(value: Record<string, unknown>): Sent {
  return value as unknown as Sent;
}

async function certificationVerified(ctx: PushContext<SpringestConfig>, certificationId: string): Promise<boolean | null> {
  if (!ctx.config.certifications_api_key) return null;
  const certifications = await listCertifications(ctx.http, { ...ctx.config, certifications_api_key: ctx.config.certifications_api_key }, ctx.signal);
  return certifications.some((c) => String(c.id) === certificationId);
}

export const springestPush: PushCapability<SpringestConfig, SpringestPushTarget> = {
  targetSchema: springestPushTarget,
  targetKey: (t) => `certification:${t.certification_id}`,
  describeTarget: (t) => `certification ${t.certification_id}`,
  upsert: false,
  needsFile: true,
  verifyWithinMs: (t) => t.verify_within_days * 86_400_000,
  pacing: (config) => ({ key: `springest:${config.base_url}:${config.api_key}`, intervalMs: SPRINGEST_POST_INTERVAL_MS }),

  prepare(target, req) {
    const cert = req.certificate;
    const email = req.email?.trim() ?? '';
    if (email === '' || !email.includes('@')) throw new AppError('invalid_request', `certificate ${cert.id} has no email address (Springest needs one to post a certificate)`);
    const validFrom = cert.valid_from ?? (cert.issued_at === null ? null : calendarDate(new Date(cert.issued_at)));
    if (validFrom === null) throw new AppError('invalid_request', `certificate ${cert.id} has neither a start nor an issue date (Springest needs valid_from)`);
    return { certification_id: target.certification_id, email, valid_from: validFrom, valid_until: cert.valid_until } satisfies Sent;
  },

  async create(ctx, target, sentValue, req) {
    const sent = sentOf(sentValue);
    const pdf = await req.file();
    const posted = await postCertificate(
      ctx.http,
      ctx.config,
      {
        certification_id: sent.certification_id,
        email: sent.email,
        valid_from: sent.valid_from,
        valid_until: sent.valid_until,
        ...(target.conversion_id === undefined ? {} : { conversion_id: target.conversion_id }),
        pdf,
        filename: `certificate-${req.certificate.id}.pdf`,
      },
      UNPACED,
      ctx.signal,
    );
    // Visible at once only when the certification is verified already: the next look tells.
    return { remote_id: posted.id, visible: false };
  },

  async look(ctx, target, sentValue, known) {
    const sent = sentOf(sentValue);
    const listed = await listCertificates(ctx.http, ctx.config, { email: sent.email, certification_id: sent.certification_id }, ctx.signal);
    const hit = known.remote_id !== null ? listed.find((c) => String(c.id) === known.remote_id) : listed.find((c) => isCopy(c, sent, known.since));
    if (hit !== undefined) return { kind: 'found', remote_id: String(hit.id) };
    const verified = await certificationVerified(ctx, target.certification_id);
    if (verified === true) return { kind: 'absent' };
    return {
      kind: 'hidden',
      reason:
        verified === false
          ? `Springest has not verified certification ${target.certification_id} yet; its certificates stay hidden until it does`
          : `not visible yet (the source has no certifications_api_key to ask whether certification ${target.certification_id} is verified)`,
    };
  },

  recognizes(cert: NormalizedCertificate, sentValue, since) {
    const sent = sentOf(sentValue);
    return (
      cert.achievement.external_id === sent.certification_id &&
      sameEmail(cert.subject.email, sent.email) &&
      cert.valid_from === sent.valid_from &&
      cert.valid_until === sent.valid_until &&
      (cert.issued_at === null || Date.parse(cert.issued_at) >= Date.parse(since) - CLOCK_SLACK_MS)
    );
  },
};
