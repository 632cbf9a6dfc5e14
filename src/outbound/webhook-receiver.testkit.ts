/**
 * A webhook receiver for tests, on loopback, the way an integrator writes one: every delivery is verified with the
 * `standardwebhooks` package, and its effect is applied once per webhook-id (a duplicate on the wire, when an
 * acknowledgement was lost, changes nothing). It can be made to fail, answer 410, redirect, or hang.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';
import { Webhook } from 'standardwebhooks';

export interface ReceivedDelivery {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  event: { type: string; timestamp: string; data: Record<string, unknown> };
  path: string;
}

export type ReceiverMode = { kind: 'ok' } | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> } | { kind: 'hang' };

export interface WebhookReceiver {
  readonly url: string;
  /** Every verified request, duplicates included, in arrival order. */
  readonly deliveries: ReceivedDelivery[];
  /** The effects: one per distinct webhook-id. */
  readonly effects: Map<string, ReceivedDelivery>;
  /** Requests whose signature did not verify (must stay empty). */
  readonly rejected: string[];
  /** Everything that arrived, verified or not (a path another endpoint redirected to, say). */
  readonly requests: { path: string; method: string }[];
  /** The secrets it accepts (any one verifying is enough). */
  secrets: string[];
  mode: ReceiverMode;
  /** How long it takes to answer a verified delivery (its effect is applied first, then the answer waits). */
  delayMs: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * `now`: the test's clock, which certhub signs with; the library checks the timestamp against Date.now(), so the
 * verification runs with Date set to that clock.
 */
export async function startWebhookReceiver(opts: { now: () => Date; secrets?: string[] }): Promise<WebhookReceiver> {
  const hanging = new Set<() => void>();
  const receiver: WebhookReceiver = {
    url: '',
    deliveries: [],
    effects: new Map(),
    rejected: [],
    requests: [],
    secrets: opts.secrets ?? [],
    mode: { kind: 'ok' },
    delayMs: 0,
    close: () =>
      new Promise<void>((resolve) => {
        hanging.forEach((end) => end());
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      receiver.requests.push({ path: req.url ?? '/', method: req.method ?? '' });
      const mode = receiver.mode;
      if (mode.kind === 'hang') {
        hanging.add(() => res.destroy());
        return;
      }
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      let verified: ReceivedDelivery['event'] | null = null;
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(opts.now());
      try {
        for (const secret of receiver.secrets) {
          try {
            verified = new Webhook(secret).verify(body, headers) as ReceivedDelivery['event'];
            break;
          } catch {
            // try the next secret
          }
        }
      } finally {
        vi.useRealTimers();
      }
      if (verified === null) {
        receiver.rejected.push(headers['webhook-id']);
        res.writeHead(400).end('bad signature');
        return;
      }
      if (mode.kind === 'status') {
        res.writeHead(mode.status, mode.headers ?? {}).end(mode.body ?? '');
        return;
      }
      const delivery: ReceivedDelivery = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        event: verified,
        path: req.url ?? '/',
      };
      receiver.deliveries.push(delivery);
      if (!receiver.effects.has(delivery.id)) receiver.effects.set(delivery.id, delivery);
      // An answer that takes a while: a sender killed meanwhile never learns it arrived (a lost acknowledgement).
      if (receiver.delayMs > 0) await new Promise((r) => setTimeout(r, receiver.delayMs));
      res.writeHead(204).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (receiver as { url: string }).url = `http://127.0.0.1:${port}/hooks`;
  return receiver;
}
