import type { Command } from 'commander';
import { csvRecord } from '../../csv.ts';
import { z } from 'zod';
import type { Certificate } from '../../domain/certificate.ts';
import { AppError } from '../../errors.ts';
import { MAX_PAGE_SIZE, type Store } from '../../store/index.ts';
import { loadCliConfig, openStoreFromConfig } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';

interface ExportOptions extends GlobalOptions {
  format?: string;
  source?: string;
}

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const flagsSchema = z.object({
  format: z.enum(EXPORT_FORMATS, { error: '--format must be csv or jsonl' }),
  source: z.string().trim().min(1, '--source must not be empty').optional(),
});

/** The CSV columns: the Certificate fields, nested objects flattened with a dot. */
export const CSV_COLUMNS = [
  'id',
  'source',
  'provider',
  'external_id',
  'status',
  'validity',
  'person_id',
  'subject.provider_user_id',
  'subject.email',
  'subject.first_name',
  'subject.last_name',
  'subject.date_of_birth',
  'achievement.type',
  'achievement.external_id',
  'achievement.title',
  'achievement.code',
  'issued_at',
  'valid_from',
  'valid_until',
  'serial',
  'file.available',
  'file.sha256',
  'first_seen_at',
  'updated_at',
  'last_seen_at',
] as const;

function columnValue(cert: Certificate, column: (typeof CSV_COLUMNS)[number]): unknown {
  const [head, tail] = column.split('.') as [string, string | undefined];
  const value = (cert as unknown as Record<string, unknown>)[head];
  return tail === undefined ? value : (value as Record<string, unknown> | null)?.[tail];
}

/** RFC 4180 records end in CRLF. */
export function csvHeader(): string {
  return csvRecord(CSV_COLUMNS);
}

export function csvRow(cert: Certificate): string {
  return csvRecord(CSV_COLUMNS.map((c) => columnValue(cert, c)));
}

/** Exactly the Certificate fields, in the order DESIGN.md lists them. */
export function jsonlRow(cert: Certificate): string {
  const { id, source, provider, external_id, status, validity, person_id, subject, achievement } = cert;
  const { issued_at, valid_from, valid_until, serial, file, first_seen_at, updated_at, last_seen_at } = cert;
  const row: Certificate = {
    id,
    source,
    provider,
    external_id,
    status,
    validity,
    person_id,
    subject: {
      provider_user_id: subject.provider_user_id,
      email: subject.email,
      first_name: subject.first_name,
      last_name: subject.last_name,
      date_of_birth: subject.date_of_birth,
    },
    achievement: { type: achievement.type, external_id: achievement.external_id, title: achievement.title, code: achievement.code },
    issued_at,
    valid_from,
    valid_until,
    serial,
    file: { available: file.available, sha256: file.sha256 },
    first_seen_at,
    updated_at,
    last_seen_at,
  };
  return `${JSON.stringify(row)}\n`;
}

/** Which tenants and sources to read: every tenant, or the tenants that have a source with the given id. */
async function exportScope(store: Store, sourceId: string | undefined): Promise<{ tenantId: string; sourceIds?: string[] }[]> {
  const tenants = await store.tenants.listTenants();
  if (sourceId === undefined) return tenants.map((t) => ({ tenantId: t.id }));
  const scope: { tenantId: string; sourceIds: string[] }[] = [];
  for (const tenant of tenants) {
    const source = await store.sources.getSourceBySlug(tenant.id, sourceId);
    if (source !== null) scope.push({ tenantId: tenant.id, sourceIds: [source.id] });
  }
  if (scope.length === 0) throw new AppError('invalid_request', `unknown source "${sourceId}" (no certificates were ever stored for it)`);
  return scope;
}

/**
 * Streams the stored certificates page by page (cursor pagination, MAX_PAGE_SIZE at a time): memory stays flat
 * whatever the store holds. `write` gets one chunk per page.
 */
export async function exportCertificates(
  store: Store,
  opts: { format: ExportFormat; source?: string | undefined; write(chunk: string): void; now?: Date },
): Promise<number> {
  const scope = await exportScope(store, opts.source);
  const now = opts.now ?? new Date();
  const row = opts.format === 'csv' ? csvRow : jsonlRow;
  if (opts.format === 'csv') opts.write(csvHeader());
  let count = 0;
  for (const { tenantId, sourceIds } of scope) {
    let cursor: string | null = null;
    do {
      const page = await store.certificates.listCertificates(
        tenantId,
        sourceIds === undefined ? {} : { source_ids: sourceIds },
        { limit: MAX_PAGE_SIZE, cursor },
        { now },
      );
      if (page.items.length > 0) opts.write(page.items.map(row).join(''));
      count += page.items.length;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }
  return count;
}

/** Writes chunks to stdout; once the reader has gone (`certhub export | head`), the export stops quietly. */
function stdoutWriter(): { write(chunk: string): void; dispose(): void } {
  let closed = false;
  const onError = () => {
    closed = true;
  };
  process.stdout.on('error', onError);
  return {
    write(chunk) {
      if (closed) throw new OutputClosed();
      process.stdout.write(chunk);
    },
    dispose: () => process.stdout.off('error', onError),
  };
}

class OutputClosed extends Error {}

/** `write` replaces stdout (tests). */
export function registerExportCommand(program: Command, _rt: CliRuntime, write?: (chunk: string) => void): void {
  program
    .command('export')
    .description('print the stored certificates as CSV or JSON lines (streamed, page by page)')
    .requiredOption('--format <format>', 'csv (header + one row per certificate, RFC 4180) or jsonl (one certificate JSON per line)')
    .option('--source <id>', 'only the certificates of this source')
    .addHelpText(
      'after',
      `
Fields: the certificate as the API shows it (DESIGN.md). CSV flattens nested fields: subject.email, achievement.title, file.available, ...
Exit status: 0 on success; 2 for a bad --format or an unknown --source.`,
    )
    .action(async (_opts: ExportOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<ExportOptions>();
      const parsed = flagsSchema.safeParse({ format: opts.format, source: opts.source });
      if (!parsed.success) throw new AppError('invalid_request', parsed.error.issues.map((i) => i.message).join('; '));
      const config = loadCliConfig(opts);
      const store = await openStoreFromConfig(config);
      const out = write === undefined ? stdoutWriter() : { write, dispose: () => undefined };
      try {
        await store.migrate();
        await exportCertificates(store, { format: parsed.data.format, source: parsed.data.source, write: (chunk) => out.write(chunk) });
      } catch (err) {
        if (!(err instanceof OutputClosed)) throw err;
      } finally {
        out.dispose();
        await store.close();
      }
    });
}
