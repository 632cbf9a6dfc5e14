/**
 * "Does this source work?": open the source and read the first page of its pull, then stop. Nothing is saved (no
 * certificates, no checkpoint, no run): the page is thrown away. The answer never carries a secret.
 */
import { AppError, type ErrorCode } from '../errors.ts';
import { reportError } from '../redact.ts';
import type { Source } from '../store/index.ts';
import type { SourceConnector } from './connector.ts';

export type ConnectionTestResult =
  | { ok: true; latency_ms: number; certificates: number }
  | { ok: false; latency_ms: number; error: { code: ErrorCode; message: string } };

/** A first page that has not come within this long is a failed test. */
export const CONNECTION_TEST_TIMEOUT_MS = 20_000;

export async function testSourceConnection(
  connector: SourceConnector,
  source: Source,
  opts: { timeoutMs?: number; now?: () => Date } = {},
): Promise<ConnectionTestResult> {
  const controller = new AbortController();
  const timeoutMs = opts.timeoutMs ?? CONNECTION_TEST_TIMEOUT_MS;
  const timer = setTimeout(
    () => controller.abort(new AppError('provider_unavailable', `no answer from the provider within ${Math.round(timeoutMs / 1000)} s`)),
    timeoutMs,
  );
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let secrets: string[] = [];
  try {
    const session = await connector.open(source, controller.signal);
    secrets = session.secrets;
    try {
      const pages = session.provider.pull(
        { sourceId: source.id, config: session.config, http: session.http, full: true, signal: controller.signal, now: opts.now ?? (() => new Date()) },
        null,
      );
      const iterator = pages[Symbol.asyncIterator]();
      try {
        const first = await Promise.race([
          iterator.next(),
          new Promise<never>((_resolve, reject) => {
            const fail = () => reject(controller.signal.reason instanceof Error ? controller.signal.reason : new Error('aborted'));
            if (controller.signal.aborted) fail();
            controller.signal.addEventListener('abort', fail, { once: true });
          }),
        ]);
        return { ok: true, latency_ms: elapsed(), certificates: first.done === true ? 0 : first.value.certificates.length };
      } finally {
        controller.abort(new AppError('cancelled', 'connection test over'));
        await iterator.return?.(undefined).catch(() => undefined);
      }
    } finally {
      await session.close();
    }
  } catch (err) {
    return { ok: false, latency_ms: elapsed(), error: reportError(err, secrets) };
  } finally {
    clearTimeout(timer);
  }
}
