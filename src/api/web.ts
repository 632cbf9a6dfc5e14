/**
 * The built web UI (web/dist) at `/`: its files as they are, and index.html for every other path outside the API, so
 * the browser app's own routes (/people/123) survive a reload.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths that belong to the API and never fall back to the UI. */
const API_PREFIXES = ['/v1/', '/docs', '/openapi.json', '/metrics', '/healthz', '/readyz'];

export function registerWebUi(app: FastifyInstance, root: string | null): void {
  if (root === null || !existsSync(join(root, 'index.html'))) return;
  const index = readFileSync(join(root, 'index.html'));
  const base = normalize(root + sep);

  app.get('/*', { logLevel: 'warn' }, (request, reply) => {
    const path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (API_PREFIXES.some((p) => path.startsWith(p))) {
      return reply.code(404).send({ error: { code: 'not_found', message: `no route for GET ${request.url}` } });
    }
    const file = normalize(join(root, path));
    if (file.startsWith(base) && existsSync(file) && statSync(file).isFile()) {
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      // Vite names assets by content hash: they may be cached for good. index.html never.
      const immutable = path.startsWith('/assets/');
      return reply
        .type(type)
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(readFileSync(file));
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  });
}
