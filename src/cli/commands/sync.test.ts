/**
 * `certhub sync` and `certhub export` in process, with a fake connector behind the `frontcore` provider id (a
 * spawned binary cannot be given one; sync-export.spawn.test.ts runs the real binary on what needs no connector).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Certificate } from '../../domain/certificate.ts';
import { AppError } from '../../errors.ts';
import type { AnyProvider } from '../../providers/registry.ts';
import type { SyncReport } from '../../sync/report.ts';
import { createFakeHttp, createListProvider, fakeCertificate, type ListProviderOptions } from '../../sync/sync.testkit.ts';
import type { CliRuntime } from '../runtime.ts';
import { csvField } from '../../csv.ts';
import { CSV_COLUMNS, registerExportCommand } from './export.ts';
import { failureOf, registerSyncCommand, type SyncCommandDeps } from './sync.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'certhub-sync-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(sources: string[]): string {
  const file = join(dir, 'certhub.yaml');
  const entries = sources.map(
    (id) => `  - id: ${id}\n    provider: frontcore\n    base_url: http://127.0.0.1:9\n    api_key: key-${id}-secret\n`,
  );
  writeFileSync(file, `database: sqlite:${join(dir, 'data', 'certhub.db')}\nsources:\n${entries.join('')}`);
  return file;
}

interface Captured {
  out: string[];
  err: string[];
  progress: string;
}

/** Deps whose fake provider for each source id is given (all sources use provider id `frontcore`). */
function depsFor(
  bySource: Record<string, Partial<ListProviderOptions>>,
  captured: Captured,
  live = false,
): () => SyncCommandDeps {
  return () => {
    const providers = new Map(
      Object.entries(bySource).map(([id, o]) => [id, createListProvider({ items: () => [], pageSize: 10, ...o })]),
    );
    return {
      // findProvider is by provider id; the fakes differ per source, so route through the config's id in createHttp.
      findProvider: () => routingProvider(providers),
      createHttp: () => createFakeHttp().client,
      live: () => live,
      progress: { write: (t: string) => (captured.progress += t) },
    };
  };
}

/** One `frontcore` provider that delegates to the fake configured for the source being pulled (ctx.config.id). */
function routingProvider(providers: Map<string, AnyProvider>): AnyProvider {
  const first = [...providers.values()][0]!;
  return {
    ...first,
    get completeness() {
      return first.completeness;
    },
    pull(ctx, checkpoint) {
      const id = (ctx.config as { id: string }).id;
      const provider = providers.get(id);
      if (provider === undefined) throw new Error(`no fake for ${id}`);
      return provider.pull(ctx, checkpoint);
    },
  };
}

async function run(argv: string[], deps: () => SyncCommandDeps, captured: Captured, exported?: string[]) {
  const rt: CliRuntime = { out: (t) => captured.out.push(t), err: (t) => captured.err.push(t) };
  const program = new Command('certhub').option('-c, --config <file>').exitOverride();
  registerSyncCommand(program, rt, deps);
  registerExportCommand(program, rt, exported === undefined ? undefined : (chunk) => exported.push(chunk));
  return program.parseAsync(argv, { from: 'user' }).then(
    () => null,
    (err: unknown) => err,
  );
}

const newCaptured = (): Captured => ({ out: [], err: [], progress: '' });
const items = (n: number) => Array.from({ length: n }, (_, i) => fakeCertificate(i + 1));

describe('certhub sync', () => {
  it('--json prints every run report; a failed source ends in one line and a non-zero exit', async () => {
    const config = writeConfig(['fc-a', 'fc-b']);
    const captured = newCaptured();
    const deps = depsFor(
      {
        'fc-a': { items: () => items(25) },
        'fc-b': { items: () => items(30), failOnPage: { page: 2 } },
      },
      captured,
    );
    const err = await run(['sync', '--json', '--config', config], deps, captured);

    const reports = JSON.parse(captured.out.join('')) as SyncReport[];
    expect(reports.map((r) => [r.source, r.status, r.pages, r.certificates.created])).toEqual([
      ['fc-a', 'succeeded', 3, 25],
      ['fc-b', 'failed', 1, 10],
    ]);
    expect(reports[1]?.error).toEqual({ code: 'provider_unavailable', message: 'provider answered 503 on page 2' });
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toBe('sync fc-b failed: provider answered 503 on page 2');
    expect(captured.err).toEqual([]);
    // No terminal and --json: no progress lines.
    expect(captured.progress).toBe('');
    expect(captured.out.join('')).not.toContain('key-fc-a-secret');
  });

  it('without a terminal logs one line per page and prints a summary per source', async () => {
    const config = writeConfig(['fc-a']);
    const captured = newCaptured();
    const err = await run(['sync', '--config', config], depsFor({ 'fc-a': { items: () => items(15) } }, captured), captured);
    expect(err).toBeNull();
    expect(captured.progress.trimEnd().split('\n')).toEqual([
      'sync fc-a: page 1 (10/15), 10 certificates (10 created, 0 updated, 0 unchanged)',
      'sync fc-a: page 2 (15/15), 15 certificates (15 created, 0 updated, 0 unchanged)',
    ]);
    expect(captured.out).toEqual([
      expect.stringMatching(
        /^fc-a: succeeded in \d+s: 2 pages, 15 certificates \(15 created, 0 updated, 0 unchanged, 0 deleted\), 2 requests$/,
      ),
    ]);
  });

  it('in a terminal redraws a live line per source and leaves the summaries on screen', async () => {
    const config = writeConfig(['fc-a', 'fc-b']);
    const captured = newCaptured();
    const deps = depsFor({ 'fc-a': { items: () => items(15) }, 'fc-b': { items: () => items(5) } }, captured, true);
    expect(await run(['sync', '--config', config], deps, captured)).toBeNull();
    expect(captured.progress).toContain('\x1b[2A'); // cursor up over the two lines
    expect(captured.progress).toMatch(/fc-a {2}page \d+ {2}\d+ certificates/);
    const screen = captured.progress.split('\x1b[2A').at(-1) ?? '';
    expect(screen).toMatch(/fc-a: succeeded in \d+s: 2 pages, 15 certificates/);
    expect(screen).toMatch(/fc-b: succeeded in \d+s: 1 pages, 5 certificates/);
    expect(captured.out).toEqual([]);
  });

  it('in a terminal leaves each summary on screen with its warning lines under it', async () => {
    const config = writeConfig(['fc-a', 'fc-b']);
    const captured = newCaptured();
    const warnings = () => [{ code: 'no_file', message: 'certificates without a downloadable file', count: 1_200 }];
    const deps = depsFor({ 'fc-a': { items: () => items(15), warnings }, 'fc-b': { items: () => items(5) } }, captured, true);
    expect(await run(['sync', '--config', config], deps, captured)).toBeNull();
    // Two pages of fc-a, one line each: the redraws go up over all three lines once fc-a's summary has them.
    const screen = captured.progress.split('\x1b[3A').at(-1) ?? '';
    expect(screen.split('\n').map((row) => row.replace('\r\x1b[2K', ''))).toEqual([
      expect.stringMatching(/^fc-a: succeeded in \d+s: 2 pages, 15 certificates/),
      '  warning: 2,400 certificates without a downloadable file (no_file)',
      expect.stringMatching(/^fc-b: succeeded in \d+s: 1 pages, 5 certificates/),
      '',
    ]);
  });

  it('--full starts from no checkpoint; an unknown --source is a usage error', async () => {
    const config = writeConfig(['fc-a']);
    const captured = newCaptured();
    const deps = depsFor({ 'fc-a': { items: () => items(3) } }, captured);
    expect(await run(['sync', '--json', '--config', config], deps, captured)).toBeNull();
    captured.out = [];
    expect(await run(['sync', '--json', '--full', '--source', 'fc-a', '--config', config], deps, captured)).toBeNull();
    const [report] = JSON.parse(captured.out.join('')) as SyncReport[];
    expect(report?.certificates).toEqual({ created: 0, updated: 0, unchanged: 3, deleted: 0 });

    const err = await run(['sync', '--source', 'nope', '--config', config], deps, captured);
    expect(err).toMatchObject({ code: 'invalid_request', message: 'unknown source "nope" (configured: fc-a)' });
  });

  it('reports a source whose provider has no connector as failed, without running it', async () => {
    const config = writeConfig(['fc-a']);
    const captured = newCaptured();
    const deps = () => ({ ...depsFor({}, captured)(), findProvider: () => null });
    const err = await run(['sync', '--json', '--config', config], deps, captured);
    const [report] = JSON.parse(captured.out.join('')) as SyncReport[];
    expect(report).toMatchObject({ run_id: null, source: 'fc-a', status: 'failed', error: { code: 'invalid_config' } });
    expect(err).toMatchObject({ code: 'invalid_config', message: 'sync fc-a failed: no connector for provider frontcore in this build of certhub' });
  });
});

describe('failureOf', () => {
  it('prints every failure but the last, which it returns to be thrown', () => {
    const err: string[] = [];
    const failed = (source: string, message: string): SyncReport =>
      ({ source, status: 'failed', error: { code: 'provider_unavailable', message } }) as SyncReport;
    const ok = { source: 'ok', status: 'succeeded', error: null } as SyncReport;
    const last = failureOf([failed('a', 'down'), ok, failed('b', 'timeout')], { out: () => undefined, err: (t) => err.push(t) });
    expect(err).toEqual(['certhub: sync a failed: down']);
    expect(last?.message).toBe('sync b failed: timeout');
    expect(failureOf([ok], { out: () => undefined, err: () => undefined })).toBeUndefined();
  });
});

describe('certhub export', () => {
  it('streams the stored certificates as JSON lines with exactly the Certificate fields, and as RFC 4180 CSV', async () => {
    const config = writeConfig(['fc-a', 'fc-b']);
    const captured = newCaptured();
    const tricky = fakeCertificate(99, {
      achievement: { type: 'course', external_id: 'Q-1', title: 'Safety, "Advanced"\nPart 2', code: null },
    });
    const deps = depsFor({ 'fc-a': { items: () => [...items(2), tricky] }, 'fc-b': { items: () => items(1) } }, captured);
    expect(await run(['sync', '--json', '--config', config], deps, captured)).toBeNull();

    const jsonl: string[] = [];
    expect(await run(['export', '--format', 'jsonl', '--config', config], deps, captured, jsonl)).toBeNull();
    const lines = jsonl.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const certs = lines.map((l) => JSON.parse(l) as Certificate);
    expect(Object.keys(certs[0]!)).toEqual([
      'id', 'source', 'provider', 'external_id', 'status', 'validity', 'person_id', 'subject', 'achievement',
      'issued_at', 'valid_from', 'valid_until', 'serial', 'file', 'first_seen_at', 'updated_at', 'last_seen_at',
    ]);
    expect(Object.keys(certs[0]!.subject)).toEqual(['provider_user_id', 'email', 'first_name', 'last_name', 'date_of_birth']);
    expect(certs.every((c) => c.person_id !== null)).toBe(true);

    const onlyB: string[] = [];
    expect(await run(['export', '--format', 'jsonl', '--source', 'fc-b', '--config', config], deps, captured, onlyB)).toBeNull();
    expect(onlyB.join('').trimEnd().split('\n').map((l) => (JSON.parse(l) as Certificate).source)).toEqual(['fc-b']);

    const csv: string[] = [];
    expect(await run(['export', '--format', 'csv', '--source', 'fc-a', '--config', config], deps, captured, csv)).toBeNull();
    const text = csv.join('');
    expect(text.startsWith(`${CSV_COLUMNS.join(',')}\r\n`)).toBe(true);
    expect(CSV_COLUMNS).toContain('subject.email');
    expect(CSV_COLUMNS).toContain('achievement.title');
    expect(text).toContain(',"Safety, ""Advanced""\nPart 2",');
    // Header + 3 records, each ending in CRLF (the embedded LF is inside quotes).
    expect(text.split('\r\n')).toHaveLength(5);

    expect(await run(['export', '--format', 'xml', '--config', config], deps, captured, [])).toMatchObject({
      code: 'invalid_request',
      message: '--format must be csv or jsonl',
    });
    expect(await run(['export', '--format', 'csv', '--source', 'nope', '--config', config], deps, captured, [])).toMatchObject({
      code: 'invalid_request',
    });
  });

  it('quotes CSV fields the RFC 4180 way', () => {
    expect(csvField(null)).toBe('');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\r\nbreak')).toBe('"line\r\nbreak"');
    expect(csvField(true)).toBe('true');
  });

  it('finding 15: defuses CSV text a spreadsheet would run as a formula, also where it splits on ;', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-5)).toBe('-5');
    // A spreadsheet that splits on `;` (many European locales) would start a new cell after it: quoted, it cannot.
    expect(csvField('Kari;=1+2')).toBe('"Kari;=1+2"');
    expect(csvField('a;b')).toBe('"a;b"');
  });
});
