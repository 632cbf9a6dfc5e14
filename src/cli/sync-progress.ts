/**
 * How a sync shows its progress: a live line per source in a terminal (rate over the last seconds, ETA when the provider
 * says how far it is), plain lines per page otherwise, and a one-line summary per finished run. Pure formatting plus a
 * small renderer that redraws the live lines in place.
 */
import type { SyncProgress } from '../sync/engine.ts';
import type { SyncReport } from '../sync/report.ts';

const RATE_WINDOW_MS = 10_000;

/** Rate over a sliding window of samples (certificates and provider units done). */
export class RateMeter {
  private samples: { at: number; certificates: number; done: number | undefined }[] = [];

  add(at: number, certificates: number, done?: number): void {
    this.samples.push({ at, certificates, done });
    while (this.samples.length > 2 && at - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
  }

  /** Certificates per second over the window (null before two samples). */
  certificatesPerSecond(): number | null {
    return this.rate((s) => s.certificates);
  }

  /** Provider units (`progress.done`) per second, for the ETA. */
  donePerSecond(): number | null {
    return this.rate((s) => s.done);
  }

  private rate(pick: (s: { certificates: number; done: number | undefined }) => number | undefined): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first === undefined || last === undefined || last.at <= first.at) return null;
    const a = pick(first);
    const b = pick(last);
    if (a === undefined || b === undefined) return null;
    return ((b - a) * 1000) / (last.at - first.at);
  }
}

const number = (n: number): string => n.toLocaleString('en-US');

/** `42s`, `3m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Seconds left at the current rate, when the provider gave a total. */
export function etaMs(progress: Pick<SyncProgress, 'done' | 'total'>, donePerSecond: number | null): number | null {
  if (progress.done === undefined || progress.total === undefined || donePerSecond === null || donePerSecond <= 0) return null;
  return (Math.max(0, progress.total - progress.done) / donePerSecond) * 1000;
}

/** The live terminal line: `edx  page 12  1,200 certificates  340/s  45% of 2,650  ETA 12s`. */
export function formatLiveLine(progress: SyncProgress, meter: RateMeter): string {
  const parts = [progress.source, `page ${number(progress.pages)}`, `${number(progress.certificates)} certificates`];
  const rate = meter.certificatesPerSecond();
  if (rate !== null) parts.push(`${number(Math.round(rate))}/s`);
  if (progress.done !== undefined && progress.total !== undefined && progress.total > 0) {
    parts.push(`${Math.min(100, Math.floor((progress.done * 100) / progress.total))}% of ${number(progress.total)}`);
    const eta = etaMs(progress, meter.donePerSecond());
    if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
  }
  return parts.join('  ');
}

/** One plain log line per saved page (no terminal). */
export function formatPageLine(progress: SyncProgress): string {
  const of = progress.done !== undefined && progress.total !== undefined ? ` (${progress.done}/${progress.total})` : '';
  return (
    `sync ${progress.source}: page ${progress.pages}${of}, ${progress.certificates} certificates ` +
    `(${progress.created} created, ${progress.updated} updated, ${progress.unchanged} unchanged)`
  );
}

/**
 * `edx: succeeded in 3s: 12 pages, 1,200 certificates (1,000 created, 200 updated, 0 unchanged, 0 deleted), 13 requests`,
 * then one line per warning (formatWarning).
 */
export function formatSummary(report: SyncReport): string {
  const c = report.certificates;
  const total = c.created + c.updated + c.unchanged;
  const requests = Object.values(report.requests_by_endpoint).reduce((a, b) => a + b, 0);
  const extra = [
    report.throttled_429 > 0 ? `${report.throttled_429} throttled (429)` : null,
    report.retries > 0 ? `${report.retries} retries` : null,
  ].filter((x) => x !== null);
  const line =
    `${report.source}: ${report.status} in ${formatDuration(report.duration_ms)}: ${number(report.pages)} pages, ` +
    `${number(total)} certificates (${number(c.created)} created, ${number(c.updated)} updated, ` +
    `${number(c.unchanged)} unchanged, ${number(c.deleted)} deleted), ${number(requests)} requests` +
    (extra.length > 0 ? `, ${extra.join(', ')}` : '');
  return [line, ...report.warnings.map(formatWarning)].join('\n');
}

/**
 * A run's warning under its summary, the count first, the code last for looking it up:
 * `  warning: 12 achievements left untitled: the catalog did not answer (untitled_achievements)`.
 */
export function formatWarning(warning: SyncReport['warnings'][number]): string {
  return `  warning: ${number(warning.count)} ${warning.message.replace(/\s*\n\s*/g, ' ')} (${warning.code})`;
}

export interface ProgressWriter {
  write(text: string): unknown;
}

/**
 * Live lines, one per source, redrawn in place (cursor up, clear line) at most every `intervalMs`. `finish()` draws
 * the last state so the final numbers stay on screen.
 */
export class LiveProgress {
  private readonly lines = new Map<string, string>();
  private readonly meters = new Map<string, RateMeter>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly out: ProgressWriter,
    sources: readonly string[],
    private readonly now: () => number = Date.now,
    private readonly intervalMs = 100,
  ) {
    for (const source of sources) this.lines.set(source, `${source}  starting`);
  }

  update(progress: SyncProgress): void {
    let meter = this.meters.get(progress.source);
    if (meter === undefined) this.meters.set(progress.source, (meter = new RateMeter()));
    meter.add(this.now(), progress.certificates, progress.done);
    this.lines.set(progress.source, formatLiveLine(progress, meter));
    if (this.now() - this.lastDraw >= this.intervalMs) this.draw();
  }

  /** Replaces a source's line for good (its summary, which may run over several lines: its warnings). */
  settle(source: string, line: string): void {
    this.lines.set(source, line);
    this.draw();
  }

  finish(): void {
    this.draw();
  }

  private draw(): void {
    this.lastDraw = this.now();
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    const rows = [...this.lines.values()].flatMap((line) => line.split('\n'));
    for (const row of rows) text += `\r\x1b[2K${row}\n`;
    this.drawn = rows.length;
    this.out.write(text);
  }
}
