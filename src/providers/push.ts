/**
 * What a provider offers for pushing certificates to it (issue 16): Springest takes posted certificates, Open edX
 * awards credentials. The push worker (outbound/push-worker.ts) knows no platform: it asks the target's provider to
 * prepare what to send, to create it, to look for it (verification, a create in doubt after a crash), and to change
 * its status (revoke, re-award) where the platform has a way to.
 */
import type { ZodType } from 'zod';
import type { Certificate, NormalizedCertificate } from '../domain/certificate.ts';
import type { ProviderHttpClient } from './http/client.ts';

export interface PushContext<Cfg> {
  config: Cfg;
  http: ProviderHttpClient;
  signal?: AbortSignal;
  now: () => Date;
  /** What the push keeps for the worker's pass over this source (one Open edX token for the batch): made once per key. */
  memo: <T>(key: string, make: () => T) => T;
}

/** The certificate to push, as certhub stores it, and who it is for. */
export interface PushRequest {
  certificate: Certificate;
  /** The email certhub knows for the certificate (its own, else the person's). */
  email: string | null;
  /** The person's user name at the target (from a certificate there or a linked identity), else the rule's mapping. */
  username: string | null;
  /** The PDF bytes, from the archive (fetched from the original's platform first when not yet archived). */
  file(): Promise<Buffer>;
}

/** What a look at the target found. */
export type PushLook =
  | { kind: 'found'; remote_id: string }
  /** Certainly not there (so a create in doubt did not happen, and creating now makes one copy). */
  | { kind: 'absent' }
  /** Not visible, and the target cannot say whether it exists (Springest before it verified the certification). */
  | { kind: 'hidden'; reason: string };

export interface PushCapability<Cfg, T extends Record<string, unknown> = Record<string, unknown>> {
  /** The rule's target options (certhub.yaml `push_rules[].target`, the API's `target`). */
  targetSchema: ZodType<T>;
  /** What on the target the options name, unique per target source: part of the push's idempotency key. */
  targetKey(target: T): string;
  /** For people: "certification 42", "program 3f2a...". */
  describeTarget(target: T): string;
  /**
   * What a create sends for `req` (the keys the copy is recognised by afterwards). AppError('invalid_request') with the
   * reason when the certificate cannot be pushed (no email, no user name, no end date where one is required).
   */
  prepare(target: T, req: PushRequest): Record<string, unknown>;
  /** Sending a create twice changes one record on the target (an upsert): no look is needed before sending again. */
  upsert: boolean;
  /** The create sends the certificate's PDF: it is read (fetched when not archived) before the create is marked as sent. */
  needsFile?: boolean;
  /**
   * Creates the copy. `visible`: it can be read back now; otherwise the push waits in awaiting_verification until a
   * look finds it. `preexisting`: the target already had it before this push (an upsert found the platform's own
   * record): certhub leaves it alone (never revokes it, keeps syncing it as the platform's certificate). A refusal that will not change by itself is AppError('provider_error') with details.status 4xx.
   */
  create(ctx: PushContext<Cfg>, target: T, sent: Record<string, unknown>, req: PushRequest): Promise<{ remote_id: string; visible: boolean; preexisting?: boolean }>;
  /** Looks for the copy: by its id when known, else by what was sent, created since `since`. */
  look(ctx: PushContext<Cfg>, target: T, sent: Record<string, unknown>, known: { remote_id: string | null; since: string | null }): Promise<PushLook>;
  /** Revokes or re-awards the copy; absent when the platform has no way to (Springest). */
  setStatus?(ctx: PushContext<Cfg>, remoteId: string, status: 'revoked' | 'awarded'): Promise<void>;
  /** Whether `cert`, as a sync of the target reads it, is the copy whose create was sent with `sent` at `since`. */
  recognizes(cert: NormalizedCertificate, sent: Record<string, unknown>, since: string): boolean;
  /** Posts are paced per account key at one per `intervalMs`, across every process (Springest: 30 a minute). */
  pacing?(config: Cfg): { key: string; intervalMs: number };
  /** How long a push may wait for the target to verify it before it fails (from the target options); default 30 days. */
  verifyWithinMs?(target: T): number;
}
