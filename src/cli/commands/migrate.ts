import type { Command } from 'commander';
import { loadCliConfig, openStoreFromConfig } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';
import { describeDatabase } from './describe.ts';

interface MigrateOptions extends GlobalOptions {
  json?: boolean;
}

export function registerMigrateCommand(program: Command, rt: CliRuntime): void {
  program
    .command('migrate')
    .description('create or upgrade the database schema (serve also does this at start)')
    .option('--json', 'print {"database": "...", "applied": ["0001_initial", ...]}')
    .action(async (_opts: MigrateOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<MigrateOptions>();
      const config = loadCliConfig(opts);
      const store = await openStoreFromConfig(config);
      try {
        const { applied } = await store.migrate();
        const database = describeDatabase(config);
        if (opts.json === true) {
          rt.out(JSON.stringify({ database, applied }));
        } else if (applied.length === 0) {
          rt.out(`${database}: already up to date`);
        } else {
          rt.out(`${database}: applied ${applied.join(', ')}`);
        }
      } finally {
        await store.close();
      }
    });
}
