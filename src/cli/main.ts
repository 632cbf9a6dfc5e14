import { Command, CommanderError } from 'commander';
import { InvalidConfigError } from '../config/index.ts';
import { describeError, isAppError } from '../errors.ts';
import { registerConfigCommand } from './commands/config.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerSyncCommand } from './commands/sync.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerSandboxCommand } from './commands/sandbox.ts';
import { registerKeysCommand } from './commands/keys.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerSecretKeyCommand } from './commands/secret-key.ts';
import { registerWebhooksCommand } from './commands/webhooks.ts';
import { registerPushesCommand } from './commands/pushes.ts';
import { createProcessRuntime, type CliRuntime } from './runtime.ts';
import { packageVersion } from '../version.ts';

export const EXIT_OK = 0;
/** A failure while doing the work: database down, port taken, provider error. */
export const EXIT_FAILURE = 1;
/** The command could not start: bad usage, bad configuration, bad secret key. */
export const EXIT_USAGE = 2;

function buildProgram(rt: CliRuntime): Command {
  const program = new Command('certhub')
    .description('certhub: one normalized, always-current store of the certificates people earn across learning platforms')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('-c, --config <file>', 'configuration file (default: $CERTHUB_CONFIG, else ./certhub.yaml if present)')
    .option('--verbose', 'print stack traces with errors')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => rt.out(text),
      writeErr: (text) => rt.err(text),
      // main prints every error itself, as one line.
      outputError: () => undefined,
    });
  registerServeCommand(program, rt);
  registerSyncCommand(program, rt);
  registerExportCommand(program, rt);
  registerSandboxCommand(program, rt);
  registerStatusCommand(program, rt);
  registerKeysCommand(program, rt);
  registerDemoCommand(program, rt);
  registerMigrateCommand(program, rt);
  registerSecretKeyCommand(program, rt);
  registerWebhooksCommand(program, rt);
  registerPushesCommand(program, rt);
  registerConfigCommand(program, rt);
  return program;
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (isAppError(err) && ['invalid_config', 'invalid_request', 'secret_key_invalid'].includes(err.code)) return EXIT_USAGE;
  return EXIT_FAILURE;
}

function stackOf(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  while (current instanceof Error && parts.length < 5) {
    parts.push(current.stack ?? current.message);
    current = current.cause;
  }
  if (parts.length === 0) parts.push(describeError(err));
  return parts.join('\nCaused by: ');
}

/** The error, ending in exactly one `certhub: <message>` line; configuration problems are listed above it. */
function reportError(rt: CliRuntime, err: unknown, verbose: boolean): void {
  if (verbose && !(err instanceof CommanderError)) rt.err(stackOf(err));
  if (err instanceof InvalidConfigError) {
    for (const problem of err.details) rt.err(`${problem.path}: ${problem.message}`);
    rt.err(`certhub: ${err.summary}`);
    return;
  }
  if (err instanceof CommanderError) {
    // A command group run without its subcommand: commander has just printed that group's help to stderr.
    if (err.code === 'commander.help') return;
    const message = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    rt.err(`certhub: ${message}${message.includes('Did you mean') ? '' : ' (see certhub --help)'}`);
    return;
  }
  rt.err(`certhub: ${describeError(err).replace(/\s*\n\s*/g, ' ')}`);
}

/** Runs `certhub <argv>` and returns the exit code; never throws. */
export async function main(argv: string[], rt: CliRuntime = createProcessRuntime()): Promise<number> {
  const program = buildProgram(rt);
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    // --help and --version end in a CommanderError with exit code 0: nothing to report.
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT_OK;
    reportError(rt, err, program.opts<{ verbose?: boolean }>().verbose === true || argv.includes('--verbose'));
    return exitCodeFor(err);
  }
}
