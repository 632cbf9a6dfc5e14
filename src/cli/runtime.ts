/** What every command gets from main: where to write, and the global options. */
export interface CliRuntime {
  /** One chunk of program output (stdout); a trailing newline is added when missing. */
  out(text: string): void;
  /** Diagnostics (stderr); a trailing newline is added when missing. */
  err(text: string): void;
}

/** Options every command accepts (DESIGN.md: every command takes --config). */
export interface GlobalOptions {
  config?: string;
  verbose?: boolean;
}

export function createProcessRuntime(): CliRuntime {
  const line = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);
  return {
    out: (text) => process.stdout.write(line(text)),
    err: (text) => process.stderr.write(line(text)),
  };
}
