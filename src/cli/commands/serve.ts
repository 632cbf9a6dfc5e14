import type { Command } from 'commander';
import { z } from 'zod';
import { startHub } from '../../hub.ts';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.ts';
import { AppError } from '../../errors.ts';
import { applyConfiguredPushRules, applyConfiguredSources } from '../../config/apply.ts';
import { loadCliConfig, openStoreFromConfig } from '../context.ts';
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
    const pushRules = await applyConfiguredPushRules(store, config);
    if (config.pushRules.length > 0 || pushRules.paused.length > 0) logger.info(pushRules, `${config.pushRules.length} configured push rule(s) applied`);

    const hub = await startHub({ store, logger, host, port, metricsToken: process.env.CERTHUB_METRICS_TOKEN ?? null, outbound: config.outbound });
    rt.out(`certhub listening on ${hub.url}`);
    if (hub.ui) rt.out(`web UI at ${hub.url}/, API docs at ${hub.url}/docs`);
    else rt.out(`API docs at ${hub.url}/docs (the web UI is not built: run npm run build:web)`);

    const signal = await opts.stopped;
    logger.info({ signal }, 'shutting down');
    await hub.stop();
  } finally {
    await store.close();
  }
}
