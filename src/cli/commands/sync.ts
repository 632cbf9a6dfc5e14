import type { Command } from 'commander';
import type { Config, SourceConfig } from '../../config/index.ts';
import { AppError } from '../../errors.ts';
import { createEventBus } from '../../events.ts';
import type { EgressPolicy } from '../../providers/http/egress.ts';
import { createSourceConnector, type SourceConnectorOptions } from '../../providers/connector.ts';
import type { Store } from '../../store/index.ts';
import { createSyncLauncher, runConfiguredSource } from '../../sync/launcher.ts';
import type { SyncReport } from '../../sync/report.ts';
import { formatPageLine, formatSummary, LiveProgress, type ProgressWriter } from '../sync-progress.ts';
import { applyConfiguredSources } from '../../config/apply.ts';
import { loadCliConfig, openStoreFromConfig } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';

interface SyncOptions extends GlobalOptions {
  source?: string;
  full?: boolean;
  json?: boolean;
}

/** How the command reaches providers (default: the registry and the real HTTP client) and where progress goes. */
export interface SyncCommandDeps extends Pick<SourceConnectorOptions, 'findProvider' | 'createHttp'> {
  /** Live progress lines (a terminal) instead of one log line per page. Default: stdout and stderr are TTYs. */
  live(): boolean;
  /** Where progress goes (stderr: stdout is for results). */
  progress: ProgressWriter;
}

function processDeps(): SyncCommandDeps {
  return {
    live: () => process.stdout.isTTY === true && process.stderr.isTTY === true,
    progress: process.stderr,
  };
}

/** The configured sources `--source` names (in any tenant), else every enabled one. AppError('invalid_request') when unknown. */
export function selectSources(config: Config, sourceId: string | undefined): SourceConfig[] {
  if (sourceId === undefined) return config.sources.filter((s) => s.enabled);
  const selected = config.sources.filter((s) => s.id === sourceId);
  if (selected.length === 0) {
    const known = config.sources.map((s) => s.id);
    throw new AppError(
      'invalid_request',
      `unknown source "${sourceId}" (${known.length === 0 ? 'no sources are configured' : `configured: ${known.join(', ')}`})`,
    );
  }
  return selected;
}

/**
 * Runs the sources in parallel (each source is its own provider account and lock), showing progress as it goes. The
 * sources must be applied to the store (applyConfiguredSources): each runs through the launcher, as `certhub serve`
 * runs them. A run that cannot start (no connector, already syncing, bad settings) is reported failed with
 * `run_id: null`.
 */
export async function syncSources(opts: {
  store: Store;
  sources: readonly SourceConfig[];
  full: boolean;
  json: boolean;
  rt: CliRuntime;
  deps: SyncCommandDeps;
  /** certhub.yaml `outbound:` (default: public addresses only). */
  outbound?: EgressPolicy;
  signal?: AbortSignal;
}): Promise<SyncReport[]> {
  const { rt, deps } = opts;
  const { store } = opts;
  const live = deps.live() ? new LiveProgress(deps.progress, opts.sources.map((s) => s.id)) : null;
  const connector = createSourceConnector({
    store,
    ...(deps.findProvider === undefined ? {} : { findProvider: deps.findProvider }),
    ...(deps.createHttp === undefined ? {} : { createHttp: deps.createHttp }),
    ...(opts.outbound === undefined ? {} : { outbound: opts.outbound }),
  });
  const launcher = createSyncLauncher({ store, connector, events: createEventBus() });
  const runOne = (source: SourceConfig): Promise<SyncReport> =>
    runConfiguredSource(launcher, store, source, {
      full: opts.full,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      onProgress: (p) => {
        if (live !== null) live.update(p);
        else if (!opts.json) deps.progress.write(`${formatPageLine(p)}\n`);
      },
    });
  let reports: SyncReport[];
  try {
    reports = await Promise.all(
      opts.sources.map(async (source) => {
        const report = await runOne(source);
        live?.settle(source.id, formatSummary(report));
        return report;
      }),
    );
  } finally {
    await launcher.stop();
  }
  live?.finish();
  if (opts.json) rt.out(JSON.stringify(reports, null, 2));
  else if (live === null) for (const report of reports) if (report.status === 'succeeded') rt.out(formatSummary(report));
  return reports;
}

/**
 * One stderr line per failed source; the last one is thrown so main prints it and exits non-zero (2 when the
 * configuration is at fault, else 1). Undefined when everything succeeded.
 */
export function failureOf(reports: readonly SyncReport[], rt: CliRuntime): AppError | undefined {
  const failed = reports.filter((r) => r.status === 'failed');
  const lines = failed.map((r) => `sync ${r.source} failed: ${r.error?.message ?? 'unknown error'}`);
  for (const line of lines.slice(0, -1)) rt.err(`certhub: ${line}`);
  const last = failed.at(-1);
  if (last === undefined) return undefined;
  return new AppError(last.error?.code === 'invalid_config' ? 'invalid_config' : 'provider_error', lines.at(-1)!);
}

/** SIGINT / SIGTERM abort the runs (each records itself failed and releases its lock) instead of killing them mid-page. */
function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new AppError('cancelled', 'sync interrupted'));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function registerSyncCommand(program: Command, rt: CliRuntime, deps: () => SyncCommandDeps = processDeps): void {
  program
    .command('sync')
    .description('pull certificates from the configured sources now (all enabled sources, in parallel)')
    .option('--source <id>', 'only this source (also when it is disabled)')
    .option('--full', 'ignore the checkpoint: pull everything from the start')
    .option('--json', 'print the run reports as a JSON array (progress lines are then only shown in a terminal)')
    .addHelpText(
      'after',
      `
Progress goes to stderr: a live line per source in a terminal, one line per saved page otherwise.
A run's summary is followed by one line per warning (count, message, code), what it could not do fully:
    warning: 12 achievements left untitled: the catalog did not answer (untitled_achievements)
Run report (--json): {run_id, source, provider, status: succeeded|failed, started_at, finished_at, duration_ms, pages,
  certificates: {created, updated, unchanged, deleted}, requests_by_endpoint, throttled_429, retries,
  warnings: [{code, message, count}], error: null|{code, message}}
Exit status: 0 when every source succeeded, with warnings or not; 1 when one failed (one "certhub: sync <source>
failed: ..." line each); 2 for an unknown --source or a configuration problem.`,
    )
    .action(async (_opts: SyncOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<SyncOptions>();
      const config = loadCliConfig(opts);
      const sources = selectSources(config, opts.source);
      const store = await openStoreFromConfig(config);
      const signals = abortOnSignals();
      let reports: SyncReport[];
      try {
        await store.migrate();
        await applyConfiguredSources(store, config);
        if (sources.length === 0 && opts.json !== true) rt.err('certhub: no enabled sources are configured; nothing to sync');
        reports = await syncSources({
          store,
          sources,
          full: opts.full === true,
          json: opts.json === true,
          rt,
          deps: deps(),
          outbound: config.outbound,
          signal: signals.signal,
        });
      } finally {
        signals.dispose();
        await store.close();
      }
      const failure = failureOf(reports, rt);
      if (failure !== undefined) throw failure;
    });
}
