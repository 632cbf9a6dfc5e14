/**
 * certhub.yaml plus the environment, validated (DESIGN.md "Configuration"). The only module that reads
 * process.env: everything else receives a `Config`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { AppError } from '../errors.ts';
import { maskDatabaseUrl, maskSourceSecrets, MASK } from './credentials.ts';
import { interpolate, shieldReferences } from './interpolate.ts';
import {
  describeIssue,
  inDocumentOrder,
  InvalidConfigError,
  isRecord,
  type ConfigProblem,
} from './problems.ts';
import type { EgressPolicy } from '../providers/http/egress.ts';
import { DEFAULT_LISTEN, DEFAULT_OUTBOUND, DEFAULT_TENANT, fileSchema, type PushRuleConfig, type SourceConfig } from './schema.ts';

export { credentialsToResend, joinSourceSecrets, MASK, splitSourceSecrets } from './credentials.ts';
export { formatProblem, InvalidConfigError, type ConfigProblem } from './problems.ts';
export {
  DEFAULT_LISTEN,
  DEFAULT_OUTBOUND,
  DEFAULT_SYNC_EVERY,
  DEFAULT_SYNC_EVERY_MS,
  DEFAULT_TENANT,
  parseDuration,
  providerSourceSchema,
  sourceSchema,
  type SourceConfig,
} from './schema.ts';

export const DEFAULT_CONFIG_FILE = 'certhub.yaml';
export const DEFAULT_DATABASE = 'sqlite:./data/certhub.db';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** Absolute path of the file that was read; null when running on the embedded default. */
  file: string | null;
  /** `sqlite:<absolute path>`, `sqlite::memory:` or `postgres://...` (CERTHUB_DATABASE_URL wins over the file). */
  database: string;
  /** Directory of the SQLite file (where the generated secret key lives too); null for PostgreSQL and :memory:. */
  dataDir: string | null;
  listen: { host: string; port: number };
  sources: SourceConfig[];
  /** `push_rules:`: applied to the store when `certhub serve` starts (config/apply.ts). */
  pushRules: PushRuleConfig[];
  /** `outbound:`: where certhub may connect (default: public addresses only). */
  outbound: EgressPolicy;
  /** CERTHUB_SECRET_KEY as set (base64 of 32 bytes; checked where it is used). */
  secretKey?: string;
  /** CERTHUB_NEW_SECRET_KEY as set: only `certhub secret-key rotate` reads it. */
  newSecretKey?: string;
  /** CERTHUB_LOG_LEVEL, default `info`. */
  logLevel: LogLevel;
}

/** The config with every credential (source secrets, database password, secret key) replaced by `***`, for printing. */
export function maskSecrets(config: Config): Config {
  const masked: Config = {
    ...config,
    database: maskDatabaseUrl(config.database),
    listen: { ...config.listen },
    sources: config.sources.map(maskSourceSecrets),
  };
  if (config.secretKey !== undefined) masked.secretKey = MASK;
  if (config.newSecretKey !== undefined) masked.newSecretKey = MASK;
  return masked;
}

export interface LoadConfigOptions {
  /** `--config`; wins over CERTHUB_CONFIG. */
  path?: string | undefined;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where relative paths (config file, SQLite file) are resolved; defaults to process.cwd(). */
  cwd?: string;
}

function duplicateSourceProblems(input: unknown): ConfigProblem[] {
  if (!isRecord(input) || !Array.isArray(input.sources)) return [];
  const seen = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  input.sources.forEach((source: unknown, index) => {
    if (!isRecord(source) || typeof source.id !== 'string') return;
    const tenant = typeof source.tenant === 'string' ? source.tenant : DEFAULT_TENANT;
    const key = `${tenant}\u0000${source.id}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else problems.push({ path: `sources[${index}].id`, message: `"${source.id}" is already used by sources[${first}]` });
  });
  return problems;
}

interface DatabaseTarget {
  database: string;
  dataDir: string | null;
}

function resolveDatabase(url: string, cwd: string): DatabaseTarget | string {
  if (url.startsWith('sqlite:')) {
    let file = url.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2); // sqlite:///abs/path
    if (file === '') return 'must name a file, e.g. sqlite:./data/certhub.db';
    if (file === ':memory:') return { database: 'sqlite::memory:', dataDir: null };
    // Relative to the working directory, like every other relative path certhub is given.
    const absolute = resolve(cwd, file);
    return { database: `sqlite:${absolute}`, dataDir: dirname(absolute) };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    try {
      new URL(url);
    } catch {
      return 'is not a valid postgres:// URL';
    }
    return { database: url, dataDir: null };
  }
  return 'must be sqlite:<file> or postgres://user@host:5432/db';
}

function refuse(problems: ConfigProblem[], file: string | null): never {
  const where = file === null ? 'the configuration' : file;
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  throw new InvalidConfigError(`${where} is invalid (${count})`, problems);
}

/** Which file to read: `--config`, else CERTHUB_CONFIG, else ./certhub.yaml when present, else none (embedded default). */
function locateConfigFile(opts: LoadConfigOptions, env: NodeJS.ProcessEnv, cwd: string): string | null {
  const explicit = opts.path ?? (env.CERTHUB_CONFIG === '' ? undefined : env.CERTHUB_CONFIG);
  if (explicit !== undefined) return resolve(cwd, explicit);
  const implicit = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(implicit) ? implicit : null;
}

function readYaml(file: string): { data: unknown; problems: ConfigProblem[] } {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new AppError('invalid_config', `cannot read config file ${file}: ${reason}`, { cause: err });
  }
  const references = shieldReferences(source);
  const doc = parseDocument(references.text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const name = basename(file);
    const problems = doc.errors.map((error) => {
      const pos = error.linePos?.[0];
      // yaml's message is "<what> at line L, column C:" followed by a code excerpt; keep the first part.
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      return { path: pos === undefined ? name : `${name}:${pos.line}:${pos.col}`, message };
    });
    return { data: undefined, problems };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // An alias bomb (aliases of aliases, billions of nodes): yaml refuses to expand it, and so do we, as a problem.
    return { data: undefined, problems: [{ path: basename(file), message: (err as Error).message.split('\n')[0] ?? 'cannot expand the YAML aliases' }] };
  }
  return { data: references.restore(data), problems: [] };
}

/** Reads and validates the configuration; throws one AppError('invalid_config') listing every problem in `details`. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file = locateConfigFile(opts, env, cwd);

  let raw: unknown = {};
  if (file !== null) {
    const read = readYaml(file);
    if (read.problems.length > 0) refuse(read.problems, file);
    raw = read.data ?? {}; // an empty file is the default configuration
  }

  const problems: ConfigProblem[] = [];
  const interpolated = interpolate(raw, env, [], problems);
  // A value that failed to interpolate would only add a second, misleading complaint about the same path.
  const brokenPaths = new Set(problems.map((p) => p.path));

  problems.push(...duplicateSourceProblems(interpolated));
  const parsed = fileSchema().safeParse(interpolated);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const problem of describeIssue(issue, interpolated)) {
        if (!brokenPaths.has(problem.path)) problems.push(problem);
      }
    }
  }

  const databaseFromEnv = env.CERTHUB_DATABASE_URL === '' ? undefined : env.CERTHUB_DATABASE_URL;
  const databaseInFile = isRecord(interpolated) && typeof interpolated.database === 'string' ? interpolated.database.trim() : '';
  const databaseUrl = databaseFromEnv ?? (databaseInFile === '' ? DEFAULT_DATABASE : databaseInFile);
  const database = resolveDatabase(databaseUrl, cwd);
  if (typeof database === 'string' && (databaseFromEnv !== undefined || !brokenPaths.has('database'))) {
    problems.push({ path: databaseFromEnv === undefined ? 'database' : 'CERTHUB_DATABASE_URL', message: database });
  }

  const logLevel = env.CERTHUB_LOG_LEVEL === undefined || env.CERTHUB_LOG_LEVEL === '' ? 'info' : env.CERTHUB_LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push({ path: 'CERTHUB_LOG_LEVEL', message: `must be one of ${LOG_LEVELS.join(', ')}` });
  }

  if (problems.length > 0 || !parsed.success || typeof database === 'string') {
    refuse(inDocumentOrder(problems, interpolated), file);
  }

  const config: Config = {
    file,
    database: database.database,
    dataDir: database.dataDir,
    listen: { host: parsed.data.listen?.host ?? DEFAULT_LISTEN.host, port: parsed.data.listen?.port ?? DEFAULT_LISTEN.port },
    sources: parsed.data.sources,
    pushRules: parsed.data.push_rules ?? [],
    outbound: parsed.data.outbound ?? DEFAULT_OUTBOUND,
    logLevel: logLevel as LogLevel,
  };
  const secretKey = env.CERTHUB_SECRET_KEY;
  if (secretKey !== undefined && secretKey !== '') config.secretKey = secretKey;
  const newSecretKey = env.CERTHUB_NEW_SECRET_KEY;
  if (newSecretKey !== undefined && newSecretKey !== '') config.newSecretKey = newSecretKey;
  return config;
}
