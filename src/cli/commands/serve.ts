import type { Command } from 'commander';
import { z } from 'zod';
import { createApp } from '../../api/app.ts';
import type { SyncLauncher } from '../../api/deps.ts';
import { createMetrics } from '../../api/metrics.ts';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { AppError, describeError } from '../../errors.ts';
import { createEventBus } from '../../events.ts';
import { createLimiterRegistry } from '../../providers/http/index.ts';
import { createSourceConnector } from '../../sources/session.ts';
import { defaultSyncDeps } from '../../sync/deps.ts';
import { createSyncLauncher } from '../../sync/launcher.ts';
import { startStoredScheduler } from '../../sync/stored-scheduler.ts';
import { applyConfiguredSources, loadCliConfig, openStoreFromConfig } from '../context.ts';
import { createLogger } from '../logger.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';
import { describeDatabase } from './describe.ts';
import { watchStopSignals } from '../signals.ts';

interface ServeOptions extends GlobalOptions {
  host?: string;
  port?: string;
}

const flagsSchema = z.object({
  host: z.string().trim().min(1, '--host must not be empty').optional(),
  port: z
    .string()
    .regex(/^\d+$/, '--port must be a number from 0 to 65535')
    .transform(Number)
    .refine((port) => port <= 65535, '--port must be a number from 0 to 65535')
    .optional(),
});

function parseFlags(opts: ServeOptions): z.output<typeof flagsSchema> {
  const parsed = flagsSchema.safeParse({ host: opts.host, port: opts.port });
  if (!parsed.success) throw new AppError('invalid_request', parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function registerServeCommand(program: Command, rt: CliRuntime): void {
  program
    .command('serve')
    .description('run the API: migrates the database, applies configured sources, listens until SIGINT/SIGTERM')
    .option('--host <host>', 'listen on this address instead of listen.host')
    .option('--port <port>', 'listen on this port instead of listen.port (0: any free port)')
    .action(async (_opts: ServeOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<ServeOptions>();
      const flags = parseFlags(opts);
      const config = loadCliConfig(opts);
      const host = flags.host ?? config.listen.host;
      const port = flags.port ?? config.listen.port;
      const logger = createLogger(config.logLevel);
      // Watch signals from the start: a SIGTERM during start-up still ends in a clean shutdown.
      const signals = watchStopSignals();
      try {
        await serveUntilStopped({ config, host, port, logger, rt, stopped: signals.stopped });
      } finally {
        signals.dispose();
      }
      logger.info('stopped');
    });
}

async function serveUntilStopped(opts: {
  config: Config;
  host: string;
  port: number;
  logger: Logger;
  rt: CliRuntime;
  stopped: Promise<NodeJS.Signals>;
}): Promise<void> {
  const { config, host, port, logger, rt } = opts;
  const store = await openStoreFromConfig(config);
  try {
    const { applied } = await store.migrate();
    logger.info({ database: describeDatabase(config), applied }, 'database ready');
    const sources = await applyConfiguredSources(store, config);
    logger.info({ sources }, `${sources.length} configured source(s) applied`);

    // One of each per process: the bus the UI listens on, the metrics /metrics serves, and the rate-limit buckets that
    // keep everything talking to one provider account (syncs, tests, downloads) under its limit together.
    const events = createEventBus();
    const metrics = createMetrics();
    const syncDeps = defaultSyncDeps({ limiters: createLimiterRegistry(), logger });
    const connector = createSourceConnector({ store, syncDeps });
    const launcher = createSyncLauncher({ store, connector, syncDeps, events, metrics, logger });
    let scheduler: ReturnType<typeof startStoredScheduler> | null = null;
    const sync: SyncLauncher = {
      start: (sourceId, startOpts) => launcher.start(sourceId, startOpts),
      nextSyncAt: (sourceId) => scheduler?.nextSyncAt(sourceId) ?? null,
      sourcesChanged: () => void scheduler?.refresh(),
    };

    const app = createApp({ store, logger, events, metrics, connector, sync });
    try {
      await app.listen({ host, port });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason =
        code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : describeError(err);
      throw new Error(`cannot listen on ${urlOf(host, port)}: ${reason}`, { cause: err });
    }
    const address = app.server.address();
    const boundPort = typeof address === 'object' && address !== null ? address.port : port;
    rt.out(`certhub listening on ${urlOf(host, boundPort)}`);
    // Every enabled source in the store (certhub.yaml's and those added through the API), each on its sync_every.
    scheduler = startStoredScheduler({ store, launcher, hasConnector: (p) => syncDeps.findProvider(p) !== null, logger });

    const signal = await opts.stopped;
    logger.info({ signal }, 'shutting down');
    // Nothing new is scheduled; runs in flight are aborted: each records itself failed and releases its source's lock.
    await scheduler.stop();
    await launcher.stop();
    await app.close();
  } finally {
    await store.close();
  }
}
