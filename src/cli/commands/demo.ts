import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { DEMO_SEED, startDemo } from '../../demo/demo.ts';
import { loadCliConfig, openStoreFromConfig } from '../context.ts';
import { createLogger } from '../logger.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';
import { watchStopSignals } from '../signals.ts';

interface DemoFlags extends GlobalOptions {
  port?: string;
  portBase?: string;
  people?: string;
}

const port = (flag: string) =>
  z
    .string()
    .regex(/^\d+$/, `${flag} must be a number from 0 to 65535`)
    .transform(Number)
    .refine((n) => n <= 65535, `${flag} must be a number from 0 to 65535`);

const flagsSchema = z.object({
  port: port('--port').default(3000),
  portBase: port('--port-base').default(3100),
  people: z
    .string()
    .regex(/^\d+$/, '--people must be a whole number from 1 to 5000')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 5000, '--people must be a whole number from 1 to 5000')
    .default(60),
});

export function registerDemoCommand(program: Command, rt: CliRuntime): void {
  program
    .command('demo')
    .description(
      'the demo (npm start): sandbox providers, the hub with its web UI on the embedded store in ./data, a demo tenant with an admin key and example requirements, and a first sync in the background',
    )
    .option('--port <port>', 'the hub port', '3000')
    .option('--port-base <port>', 'simulators on port-base+1..+4', '3100')
    .option('--people <n>', 'people in the sandbox world', '60')
    .action(async (_o: DemoFlags, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DemoFlags>();
      const parsed = flagsSchema.safeParse({ port: opts.port, portBase: opts.portBase, people: opts.people });
      if (!parsed.success) throw new AppError('invalid_request', parsed.error.issues.map((i) => i.message).join('; '));
      const config = loadCliConfig(opts);
      // The demo's own lines go to the terminal; the hub's log lines only when something goes wrong.
      const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      const signals = watchStopSignals();
      if (config.dataDir !== null) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      const store = await openStoreFromConfig(config);
      try {
        const demo = await startDemo({
          store,
          logger,
          host: config.listen.host,
          port: parsed.data.port,
          sandboxPortBase: parsed.data.portBase,
          people: parsed.data.people,
          seed: DEMO_SEED,
          keyFile: config.dataDir === null ? null : join(config.dataDir, 'demo-admin-key'),
        });
        const sim = demo.sandbox.simulators.map((s) => `${s.provider} ${s.url}`).join(', ');
        rt.out(
          [
            '',
            'certhub demo is running.',
            '',
            `  Open the web UI, signed in:  ${demo.signInUrl}`,
            `  API docs (OpenAPI):          ${demo.hub.url}/docs`,
            `  Admin API key (demo tenant): ${demo.adminKey}`,
            `  Sandbox providers:           ${sim}`,
            `  Data:                        ${config.database}`,
            '',
            `  Try: curl -H "Authorization: Bearer ${demo.adminKey}" ${demo.hub.url}/v1/sources`,
            '',
            'The first sync of every source is running in the background; watch it on the overview page.',
            'Press Ctrl-C to stop. Running it again reuses the data.',
          ].join('\n'),
        );
        if (!demo.hub.ui) rt.err('certhub: the web UI is not built; run npm run build:web (npm install does it)');
        await signals.stopped;
        rt.out('stopping…');
        await demo.stop();
      } finally {
        signals.dispose();
        await store.close();
      }
    });
}
