/**
 * The Provider contract (DESIGN.md). The sync engine knows nothing about any provider: it runs
 * `pull`, writes each page with its checkpoint in one transaction, and sweeps what a full-scan
 * source no longer returns, only after a run that completed.
 */
import { z, type ZodType } from 'zod';
import type { ProviderId, NormalizedCertificate, AchievementType } from '../domain/certificate.ts';
import type { RateLimit } from '../domain/rate-limit.ts';
import type { CertificateFile, CertificateFileRef, FileContext } from './file.ts';
import type { ProviderHttpClient } from './http/client.ts';
import type { RetryPolicy } from './http/retry.ts';
import type { LiveCheck } from './live.ts';
import type { PushCapability } from './push.ts';

/** A provider's own certhub.yaml keys (besides id, tenant, enabled, rate_limit and sync_every), as zod fields. */
export type SettingsShape = Record<string, z.ZodType>;

/** Where a setting sits in a source, as nested in certhub.yaml: `['oauth', 'client_secret']`. */
export type SettingPath = readonly string[];

/** One input of the add-source form (`GET /v1/providers`): a setting as the web UI asks for it. */
export interface SettingsField {
  /** The setting's path, dotted: `base_url`, `oauth.token_url`. */
  name: string;
  label: string;
  optional?: boolean;
  placeholder?: string;
}

/**
 * The schema a provider's `configSchema` is: its settings over the resolved source (certhub.yaml's entry as the store
 * keeps it and the connector hands it over: `id` is the source's slug, `sync_every` already `sync_every_ms`). The
 * same field definitions as certhub.yaml's (config/schema.ts builds the YAML entry from `settings`), so the two never
 * disagree; keys the provider does not read pass through.
 */
export function resolvedConfigSchema<S extends SettingsShape>(settings: S) {
  return z.looseObject({ id: z.string().min(1), ...settings });
}

/** Whatever the provider needs to resume: opaque to the engine, stored as JSON with each page. */
export type Checkpoint = Record<string, unknown>;

/** A catalog entry seen while pulling: stored once per source so rules and the UI can name it. */
export interface CatalogAchievement {
  type: AchievementType;
  external_id: string;
  title: string | null;
  code: string | null;
  extra?: Record<string, unknown>;
}

export interface Page {
  certificates: NormalizedCertificate[];
  /**
   * Full-scan sources only: the provider verified that nothing changed since the last complete
   * scan (Falkor's response `hash` is unchanged). The engine then treats the scan as complete
   * WITHOUT sweeping, since nothing was re-read.
   */
  unchanged?: boolean;
  /**
   * Incremental sources only: this run reads everything (e.g. Springest's periodic reconciliation, since its
   * API shows neither changes nor deletions incrementally). The engine then treats the run as a full scan:
   * it sweeps what the completed run did not return. Set it on every page of such a run.
   */
  fullScan?: boolean;
  /**
   * Full scans only: `false` ends the scan WITHOUT sweeping: the provider could not confirm that what the scan did not
   * return is gone (say so in a warning). The next scan tries again.
   */
  sweep?: false;
  achievements?: CatalogAchievement[];
  /** Stored in the same transaction as the certificates; the next run resumes from it. */
  checkpoint: Checkpoint;
  /** For progress display: how far this run is, when the provider can tell. */
  progress?: { done: number; total?: number };
  /**
   * What this page could not do fully, without failing the run (achievements left untitled because the catalog did not
   * answer, certificates without a file). The engine adds them up by `code` into the run report's `warnings`.
   */
  warnings?: RunWarning[];
}

/**
 * A degradation a run reports (sync report `warnings`): the run succeeded, but with less than it could have. `code`
 * is stable (`catalog_unavailable`, `untitled_achievements`, `no_file`); `message` is one line for people, with no
 * count in it (the count is `count`) and never a secret.
 */
export interface RunWarning {
  code: string;
  message: string;
  /** How many items it concerns (default 1); the engine sums it per code. */
  count?: number;
}

export interface PullContext<Cfg> {
  sourceId: string;
  config: Cfg;
  http: ProviderHttpClient;
  /** Ignore the checkpoint and pull everything. */
  full: boolean;
  signal: AbortSignal;
  now(): Date;
  /**
   * Full scans only: the external ids of this source's live certificates that the current scan has not returned yet,
   * i.e. what the engine would sweep if the pull ended now (at most `limit`, default 1000). A provider whose list has no
   * guaranteed order asks it at the end of a scan and checks each one, so that no live certificate is swept.
   */
  unseen?(limit?: number): Promise<string[]>;
}

/**
 * Sweep semantics for `completeness: 'full-scan'` (owned by the engine, not the provider):
 * - A scan may span several runs (a crash resumes from the last saved checkpoint). The engine
 *   stores, next to the provider's checkpoint, when the current scan started; a run that starts
 *   with no scan in progress starts a new one at its own start time.
 * - When `pull` ends without error, the scan is complete: the engine marks deleted every
 *   certificate of the source not seen since the scan started (unless a page said `unchanged`),
 *   then clears the scan start. The provider's last checkpoint must make its next `pull` begin a
 *   new full scan (it may keep data such as Falkor's last hash).
 * - A failed run never sweeps, nor does a scan one of whose pages said `sweep: false`.
 */
export interface Provider<Cfg> {
  /** Its name in certhub.yaml (`provider: frontcore`), in the store and in the API. */
  id: ProviderId;
  /** How people call it: `FrontCore`. */
  title: string;
  /** Its own certhub.yaml keys: config/schema.ts adds the common ones and makes the entry strict. */
  settings: SettingsShape;
  /** resolvedConfigSchema(settings): what pull, fetchFile and checkStatus are given. */
  configSchema: ZodType<Cfg>;
  /** Which settings are credentials: encrypted at rest, write-only in the API, masked when printed, scrubbed from errors. */
  secrets: readonly SettingPath[];
  /** The add-source form of the web UI, in order. */
  form: readonly SettingsField[];
  /**
   * How the provider's user ids compare (identity matching, status checks by user id), given the trimmed id: Open edX
   * usernames are case-insensitive. Default: as given.
   */
  normalizeUserId?(id: string): string;
  completeness: 'incremental' | 'full-scan';
  /**
   * The account's documented request limit (FrontCore: 5 per second), if any. The sync gives the source's HTTP client
   * a bucket shared by everything using the same account, paced at 90% of this (http/limiter.ts defaultRate); a
   * source's own `rate_limit` in certhub.yaml wins. Omitted and not configured: requests are not paced.
   */
  rateLimit?: RateLimit;
  /** The HTTP client's retry policy where the default does not fit the platform (e.g. a longer Retry-After waited out). */
  retry?: Partial<RetryPolicy>;
  pull(ctx: PullContext<Cfg>, checkpoint: Checkpoint | null): AsyncIterable<Page>;
  /**
   * A certificate's file (PDF), fetched afresh. Absent when the provider hands out no files. A certificate the
   * provider no longer has is AppError('not_found'); bytes that are not a PDF are AppError('provider_error').
   */
  fetchFile?(ctx: FileContext<Cfg>, cert: CertificateFileRef): Promise<CertificateFile>;
  /** Asks the provider's own status endpoint about people (`?live=true`); absent when it has none. */
  checkStatus?: LiveCheck<Cfg>;
  /** Certificates certhub can push to this platform (push rules); absent when it takes none. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  push?: PushCapability<Cfg, any>;
}

/** A provider of any configuration type: the engine hands it only what its own configSchema parsed. */
export type AnyProvider = Provider<unknown>;
