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
) {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* lines(): AsyncGenerator<string> {
    yield csvRecord(header);
    for (let next = first; next.done !== true; next = await iterator.next()) yield next.value.map(record).join('');
  }
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(lines()));
}
