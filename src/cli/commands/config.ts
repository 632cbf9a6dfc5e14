import type { Command } from 'commander';
import { stringify } from 'yaml';
import { InvalidConfigError, maskSecrets } from '../../config/index.ts';
import { loadCliConfig } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';

interface CheckOptions extends GlobalOptions {
  json?: boolean;
}

export function registerConfigCommand(program: Command, rt: CliRuntime): void {
  const config = program
    .command('config')
    .description('inspect the configuration (certhub.yaml and CERTHUB_* environment variables)');

  config
    .command('check')
    .description('validate the configuration and print it resolved, with secrets masked')
    .option('--json', 'print {"ok": true, "config": {...}} or {"ok": false, "problems": [{"path", "message"}]}')
    .addHelpText(
      'after',
      '\nExit status: 0 when valid; 2 when invalid, with every problem on stderr as `path: message`.',
    )
    .action((_opts: CheckOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<CheckOptions>();
      let resolved;
      try {
        resolved = loadCliConfig(opts);
      } catch (err) {
        if (opts.json === true && err instanceof InvalidConfigError) {
          rt.out(JSON.stringify({ ok: false, problems: err.details }, null, 2));
        }
        throw err;
      }
      const masked = maskSecrets(resolved);
      if (opts.json === true) {
        rt.out(JSON.stringify({ ok: true, config: masked }, null, 2));
        return;
      }
      const { file, ...rest } = masked;
      rt.out(`# certhub configuration: valid (${file ?? 'embedded default'})\n${stringify(rest)}`);
    });
}
