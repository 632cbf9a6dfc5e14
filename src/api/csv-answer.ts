/** CSV answers: whether the client asked for one, and streaming one in batches (compliance table, expiring report). */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csvRecord } from '../csv.ts';

/** True when the client asked for CSV (`Accept: text/csv` or `?format=csv`). */
export function wantsCsv(request: FastifyRequest): boolean {
  const format = (request.query as Record<string, unknown> | undefined)?.format;
  if (format === 'csv') return true;
  const accept = request.headers.accept ?? '';
  return /(^|,)\s*text\/csv/i.test(accept);
}

/**
 * Streams a CSV document: the header, then each batch's records as it is read. The first batch is read before
 * anything is sent, so that a failure to read at all still answers with an error status.
 */
export async function sendCsv<T>(
  reply: FastifyReply,
  filename: string,
  header: readonly string[],
  batches: AsyncIterable<T[]>,
  record: (item: T) => string,
  /** Told the row count of each batch as it is sent (the quota charges exports by size). */
  onRows?: (rows: number) => void,
) {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* lines(): AsyncGenerator<string> {
    yield csvRecord(header);
    for (let next = first; next.done !== true; next = await iterator.next()) {
      onRows?.(next.value.length);
      yield next.value.map(record).join('');
    }
  }
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(lines()));
}

/** An onRows for sendCsv that charges the key a unit per started 1,000 rows beyond the first 1,000 (key-quota.ts). */
export function chargeExportRows(spend: (units: number) => void, rowsPerUnit: number): (rows: number) => void {
  let rows = 0;
  let charged = 0;
  return (n) => {
    rows += n;
    const due = Math.ceil(Math.max(0, rows - rowsPerUnit) / rowsPerUnit);
    if (due > charged) spend(due - charged);
    charged = Math.max(charged, due);
  };
}
