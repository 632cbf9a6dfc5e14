/** Reading response bodies under a size cap, counting bytes as they arrive. */
import { Transform, type Readable } from 'node:stream';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Drops a body not worth reading. undici reports a destroyed body as an 'error' event: swallow it. */
export function discard(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => undefined);
  body.destroy();
}

/** The whole body, or BodyTooLargeError as soon as it passes `limit` (the rest is not read). */
export async function readCapped(body: Readable, limit: number, onBytes: (n: number) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buf.length;
      onBytes(buf.length);
      if (size > limit) throw new BodyTooLargeError(limit);
      chunks.push(buf);
    }
  } finally {
    if (!body.readableEnded) discard(body);
  }
  return Buffer.concat(chunks);
}

/** The start of an error body (enough for a message and details); the rest is discarded. Never throws. */
export async function readHead(body: Readable, keep: number, onBytes: (n: number) => void): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      onBytes(buf.length);
      chunks.push(buf);
      size += buf.length;
      if (size >= keep) break;
    }
  } catch {
    // An error body cut off is still worth what arrived.
  } finally {
    if (!body.readableEnded) discard(body);
  }
  return Buffer.concat(chunks).subarray(0, keep).toString('utf8');
}

/**
 * `body` passed through a counter that fails with `tooLarge()` once more than `limit` bytes went by,
 * and whose other errors are replaced by `wrapError(err)` (so callers never see raw, unredacted errors).
 */
export function cappedStream(body: Readable, limit: number, onBytes: (n: number) => void, tooLarge: () => Error, wrapError: (err: unknown) => Error): Readable {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      onBytes(chunk.length);
      if (size > limit) callback(tooLarge());
      else callback(null, chunk);
    },
  });
  body.on('error', (err) => counter.destroy(wrapError(err)));
  counter.on('close', () => {
    if (!body.destroyed) body.destroy();
  });
  body.pipe(counter);
  return counter;
}
