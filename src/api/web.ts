/**
 * The built web UI (web/dist) at `/`: its files as they are, and index.html for every other path outside the API, so
 * the browser app's own routes (/people/123) survive a reload.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.ts';

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

/** Every file of the built UI by its URL path, read once: a few small files, served from memory. */
function readBuild(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    files.set(`/${relative(root, file).split(sep).join('/')}`, readFileSync(file));
  }
  return files;
}

export function registerWebUi(app: FastifyInstance, root: string | null): void {
  if (root === null || !existsSync(join(root, 'index.html'))) return;
  const files = readBuild(root);
  const index = files.get('/index.html')!;

  app.get('/*', { logLevel: 'warn' }, (request, reply) => {
    // Looked up as sent: the build's names are plain ASCII, and only they can match (no path ever reaches the disk).
    const path = request.url.split('?')[0] ?? '/';
    if (API_PREFIXES.some((p) => path.startsWith(p))) return sendError(reply, 'not_found', `no route for GET ${request.url}`);
    const bytes = files.get(path);
    if (bytes !== undefined) {
      // Vite names assets by content hash: they may be cached for good. index.html never.
      const immutable = path.startsWith('/assets/');
      return reply
        .type(TYPES[extname(path)] ?? 'application/octet-stream')
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(bytes);
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  });
}
