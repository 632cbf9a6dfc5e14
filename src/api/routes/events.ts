/** The live event stream of the tenant (server-sent events): sync progress and certificate changes. */
import type { FastifyInstance } from 'fastify';
import type { HubEvent } from '../../events.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';

/** A comment line this often keeps proxies and the browser from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

export function registerEventRoutes(table: RouteTable, deps: RouteDeps): void {
  // Open event streams of this app, ended when it closes (an open stream would hold app.close() up forever).
  const streams = new Set<() => void>();
  const hooked = new WeakSet<FastifyInstance>();

  table.add({
    method: 'GET',
    url: '/v1/events',
    operationId: 'streamEvents',
    summary: "Live events of the tenant (server-sent events): sync progress and certificate changes",
    description:
      'One `event: <type>` and `data: <json>` per event (sync.started, sync.progress, sync.finished, certificates.changed); ' +
      'a comment line every 15 s keeps the connection open. Send the API key as `Authorization: Bearer` (read with fetch).',
    tag: 'sources',
    access: 'read',
    responses: { 200: { description: 'The stream', binary: 'text/event-stream' } },
    handler({ caller, request, reply }) {
      const tenantId = caller!.tenantId;
      const server = request.server;
      if (!hooked.has(server)) {
        hooked.add(server);
        // Runs before Fastify closes the server (avvio runs onClose handlers last-registered first).
        (server as unknown as { onClose(fn: (instance: unknown, done: () => void) => void): void }).onClose((_instance, done) => {
          for (const end of [...streams]) end();
          done();
        });
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // The socket goes with the stream: nothing else is sent on it, and a closing app need not wait for it.
        connection: 'close',
        'x-accel-buffering': 'no',
      });
      raw.write(': connected\n\n');
      const send = (event: HubEvent) => raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      const unsubscribe = deps.events.subscribe(tenantId, send);
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(end);
        if (!raw.writableEnded) raw.end();
      };
      streams.add(end);
      request.raw.on('close', end);
      raw.on('close', end);
      raw.on('error', end);
    },
  });
}
