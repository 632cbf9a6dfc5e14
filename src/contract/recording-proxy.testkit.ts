/**
 * A recording proxy for tests that are about what crosses the wire: it forwards every request to `target` as it came,
 * rewrites the target's origin in answers to its own (absolute `next` links then point back at the proxy), and logs
 * when each request arrived, its method and path, and the status and Retry-After of the answer, on the test's clock.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedExchange {
  /** When the request reached the proxy (test clock, ms). */
  at: number;
  method: string;
  path: string;
  status: number;
  retryAfter: string | null;
}

export interface RecordingProxy {
  url: string;
  log: ProxiedExchange[];
  /** Answers the upstream gave that never reached the client (it was gone: killed, timed out). */
  readonly lostAnswers: number;
  close(): Promise<void>;
}

export interface RecordingProxyOptions {
  /** Holds the upstream's answer back this long before relaying it (the effect happened, the answer is late). */
  holdAnswerMs?: (method: string, path: string) => number;
  /** Told when a request reaches the proxy (before it is forwarded). */
  onRequest?: (method: string, path: string) => void;
}

export async function startRecordingProxy(target: string, now: () => Date, opts: RecordingProxyOptions = {}): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const log: ProxiedExchange[] = [];
  let self = '';
  let lost = 0;
  const server = http.createServer((req, res) => {
    const at = now().getTime();
    opts.onRequest?.(req.method ?? 'GET', req.url ?? '/');
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const retry = answer.headers['retry-after'];
        log.push({ at, method: req.method ?? 'GET', path: req.url ?? '/', status: answer.statusCode ?? 0, retryAfter: typeof retry === 'string' ? retry : null });
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.from(Buffer.concat(chunks).toString('latin1').split(upstream.origin).join(self), 'latin1');
          const headers = { ...answer.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          const hold = opts.holdAnswerMs?.(req.method ?? 'GET', req.url ?? '/') ?? 0;
          const relay = () => {
            if (res.destroyed || req.socket.destroyed) lost += 1;
            else res.writeHead(answer.statusCode ?? 502, headers).end(body);
          };
          if (hold > 0) setTimeout(relay, hold);
          else relay();
        });
      },
    );
    out.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  self = `http://127.0.0.1:${port}`;
  return {
    url: self,
    log,
    get lostAnswers() {
      return lost;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Requests that arrived before a Retry-After the proxy relayed had passed: what a well-behaved client never sends. */
export function sentBeforeRetryAfter(log: readonly ProxiedExchange[], match: (e: ProxiedExchange) => boolean = () => true): ProxiedExchange[] {
  const early: ProxiedExchange[] = [];
  let blockedUntil = -Infinity;
  for (const e of [...log].filter(match).sort((a, b) => a.at - b.at)) {
    if (e.at < blockedUntil) early.push(e);
    if (e.status === 429 && e.retryAfter !== null && /^\d+$/.test(e.retryAfter)) blockedUntil = Math.max(blockedUntil, e.at + Number(e.retryAfter) * 1000);
  }
  return early;
}
