/**
 * The zod schemas of certhub.yaml: strict everywhere, so a misspelt key is an error, not silently ignored. A source
 * entry is the common keys below plus its provider's own settings (Provider.settings), one entry schema per provider
 * of the registry.
 */
import { z } from 'zod';
import { pushRuleBodySchema } from '../outbound/push-rules.ts';
import type { AnyProvider } from '../providers/provider.ts';
import { allProviders, registryVersion } from '../providers/registry.ts';
import { allowEntryProblem, REFUSE_PRIVATE_EGRESS, type EgressPolicy } from '../providers/http/egress.ts';
import { boolean, duration, integer, parseDuration, positiveNumber, slug, text } from './fields.ts';

export { parseDuration } from './fields.ts';

export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 3000 } as const;
export const DEFAULT_TENANT = 'default';
export const DEFAULT_SYNC_EVERY = '1h';
/** DEFAULT_SYNC_EVERY in milliseconds. */
export const DEFAULT_SYNC_EVERY_MS = parseDuration(DEFAULT_SYNC_EVERY) ?? 3_600_000;

/** The shortest `sync_every`: a source polled more often only hammers its provider (issue 13, finding 2). */
export const MIN_SYNC_EVERY = '1m';
/** The fastest `rate_limit`, in requests per second: no provider documents more, and more is a flood (issue 13). */
export const MAX_REQUESTS_PER_SECOND = 100;

const rateLimitSchema = z
  .strictObject(
    { requests: integer(1, 1_000_000), per_seconds: positiveNumber() },
    { error: 'must be a mapping like { requests: 5, per_seconds: 1 }' },
  )
  .refine((rate) => rate.requests / rate.per_seconds <= MAX_REQUESTS_PER_SECOND, {
    message: `must be at most ${MAX_REQUESTS_PER_SECOND} requests per second`,
  });

/**
 * `outbound:` — the egress policy of every request certhub makes (providers/http/egress.ts). Off by default: only
 * public addresses; `allow_private: true` for the demo, the sandbox and on-premise platforms, `allow` for single
 * networks or hosts.
 */
const outboundSchema = z
  .strictObject(
    {
      allow_private: boolean().default(false),
      allow: z
        .preprocess(
          (v) => v ?? [],
          z.array(
            text().superRefine((entry, ctx) => {
              const problem = allowEntryProblem(entry);
              if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
            }),
            { error: 'must be a list of CIDRs or host names' },
          ),
        )
        .default([]),
    },
    { error: 'must be a mapping like { allow_private: false, allow: [10.20.0.0/16] }' },
  )
  .transform((o): EgressPolicy => ({ allowPrivate: o.allow_private, allow: o.allow }));

export const DEFAULT_OUTBOUND: EgressPolicy = REFUSE_PRIVATE_EGRESS;

const commonSourceFields = {
  id: slug(),
  tenant: slug().default(DEFAULT_TENANT),
  enabled: boolean().default(true),
  rate_limit: rateLimitSchema.optional(),
  sync_every: duration(parseDuration(MIN_SYNC_EVERY) ?? 60_000, MIN_SYNC_EVERY).prefault(DEFAULT_SYNC_EVERY),
};

/**
 * A source as certhub resolves it from certhub.yaml or the API: the common keys (`sync_every` as `sync_every_ms`) and
 * its provider's settings (credentials included: never print one without maskSourceSecrets).
 */
export interface SourceConfig {
  id: string;
  provider: string;
  tenant: string;
  enabled: boolean;
  rate_limit?: { requests: number; per_seconds: number } | undefined;
  sync_every_ms: number;
  [setting: string]: unknown;
}

// The schema says `sync_every` (as written in YAML); the resolved config says what the number is.
const resolveSyncEvery = <T extends { sync_every: number }>({ sync_every, ...rest }: T) => ({
  ...rest,
  sync_every_ms: sync_every,
});

/** One provider's certhub.yaml entry: the common keys, `provider: <id>`, and the provider's settings. */
export function providerSourceSchema(provider: AnyProvider) {
  return z
    .strictObject({ ...commonSourceFields, provider: z.literal(provider.id), ...provider.settings }, { error: 'must be a mapping' })
    .transform((entry) => resolveSyncEvery(entry) as SourceConfig);
}

function buildSourceSchema() {
  const [first, ...rest] = allProviders().map(providerSourceSchema);
  if (first === undefined) throw new Error('no providers are registered');
  return z.discriminatedUnion('provider', [first, ...rest]);
}

/** A `push_rules:` entry: the API's push rule body, plus the tenant it belongs to. */
export function pushRuleConfigSchema() {
  return pushRuleBodySchema.extend({ tenant: slug().default(DEFAULT_TENANT) });
}
export type PushRuleConfig = z.output<ReturnType<typeof pushRuleConfigSchema>>;

function buildFileSchema(source: z.ZodType<SourceConfig>) {
  return z.strictObject(
    {
      database: text().optional(),
      listen: z
        .strictObject(
          { host: text().default(DEFAULT_LISTEN.host), port: integer(0, 65535).default(DEFAULT_LISTEN.port) },
          { error: 'must be a mapping like { host: 127.0.0.1, port: 3000 }' },
        )
        .optional(),
      outbound: outboundSchema.optional(),
      // `sources:` with nothing under it is YAML null: no sources.
      sources: z.preprocess((v) => v ?? [], z.array(source, { error: 'must be a list' })),
      // Push rules (issue 16): applied to the store on start, after the sources they name.
      push_rules: z.preprocess((v) => v ?? [], z.array(pushRuleConfigSchema(), { error: 'must be a list' })).optional(),
    },
    { error: 'must be a mapping' },
  );
}

let cached: { version: number; source: z.ZodType<SourceConfig>; file: ReturnType<typeof buildFileSchema> } | null = null;

function schemas() {
  if (cached === null || cached.version !== registryVersion()) {
    const source = buildSourceSchema() as unknown as z.ZodType<SourceConfig>;
    cached = { version: registryVersion(), source, file: buildFileSchema(source) };
  }
  return cached;
}

/** A source entry of certhub.yaml (and the API's POST /v1/sources body), for every registered provider. */
export function sourceSchema(): z.ZodType<SourceConfig> {
  return schemas().source;
}

/** certhub.yaml as a whole. */
export function fileSchema() {
  return schemas().file;
}
