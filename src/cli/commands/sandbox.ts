import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../errors.ts';
import { defaultSandboxAsOf, startSandbox, type RunningSandbox } from '../../simulators/sandbox.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';
import { watchStopSignals } from '../signals.ts';

interface SandboxOptions extends GlobalOptions {
  portBase: string;
  people: string;
  seed: string;
  asOf?: string;
  host: string;
  json?: boolean;
  writeConfig?: string;
}

function positiveInt(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new AppError('invalid_request', `${flag} must be a whole number between 0 and ${max}`);
  return n;
}

/** What `--json` prints: one line, once every simulator is listening. Stable; documented in the README. */
export function sandboxSummary(sb: RunningSandbox): Record<string, unknown> {
  return {
    seed: sb.options.seed,
    people: sb.options.people,
    as_of: sb.options.asOf,
    simulators: Object.fromEntries(sb.simulators.map((s) => [s.provider, { url: s.url }])),
    sources: sb.sources(),
  };
}

function describeSources(sb: RunningSandbox): string[] {
  return sb.sources().map((source) => {
    const secrets = Object.entries(source)
      .filter(([k]) => !['id', 'provider', 'base_url', 'timezone'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return `  ${String(source.id).padEnd(18)} ${String(source.base_url)}\n  ${' '.repeat(18)} ${secrets.join('  ')}`;
  });
}

export function registerSandboxCommand(program: Command, rt: CliRuntime): void {
  program
    .command('sandbox')
    .description('run the four provider simulators (FrontCore, Falkor, Open edX, Springest) on seeded data until SIGINT/SIGTERM')
    .option('--port-base <port>', 'FrontCore on base+1, Falkor base+2, Open edX base+3, Springest base+4 (0: any free ports)', '3100')
    .option('--people <n>', 'number of people in the seeded world', '200')
    .option('--seed <seed>', 'seed of the generated data (same seed, same data)', 'certhub')
    .option('--as-of <date>', "the sandbox's today, YYYY-MM-DD (default: yesterday in UTC, so nothing is dated after the sandbox starts)")
    .option('--host <host>', 'address to listen on (loopback only is wise)', '127.0.0.1')
    .option('--json', 'print one JSON line with URLs and credentials once all are listening')
    .option('--write-config <file>', 'write a certhub.yaml pointing at these simulators')
    .action(async (_o: SandboxOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<SandboxOptions>();
      const asOf = opts.asOf ?? defaultSandboxAsOf(new Date());
      if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(asOf))) throw new AppError('invalid_request', '--as-of must be a date YYYY-MM-DD');
      const portBase = positiveInt(opts.portBase, '--port-base', 65530);
      const people = positiveInt(opts.people, '--people', 2_000_000);
      if (people < 1) throw new AppError('invalid_request', '--people must be at least 1');
      const signals = watchStopSignals();
      try {
        const sandbox = await startSandbox({ portBase, people, seed: opts.seed, asOf, host: opts.host });
        try {
          if (opts.writeConfig) writeFileSync(opts.writeConfig, sandbox.configYaml(), { mode: 0o600 });
          if (opts.json === true) rt.out(JSON.stringify(sandboxSummary(sandbox)));
          else {
            rt.out(`certhub sandbox: ${people} people, seed ${opts.seed}, as of ${asOf}`);
            for (const s of sandbox.simulators) {
              rt.out(`  ${s.provider.padEnd(10)} ${s.url}   (control API: ${s.url}/__sim)`);
              // A service of the same platform on a host of its own (Open edX's course-discovery).
              for (const c of s.instance.companions ?? []) rt.out(`  ${''.padEnd(10)} ${c.url()}   (${c.name})`);
            }
            rt.out('sources (credentials of these local simulators only):');
            rt.out(describeSources(sandbox).join('\n'));
            if (opts.writeConfig) rt.out(`wrote ${opts.writeConfig}: run \`certhub sync --config ${opts.writeConfig}\``);
            rt.out('Ctrl-C stops the simulators.');
          }
          await signals.stopped;
        } finally {
          await sandbox.close();
        }
      } finally {
        signals.dispose();
      }
    });
}
