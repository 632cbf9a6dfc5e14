/**
 * Security headers on every answer (API, UI, docs, files): no MIME sniffing, no framing by other sites, no Referer to
 * elsewhere, and a Content-Security-Policy. HTML pages (the web UI, /docs) get a strict policy: scripts, styles and
 * everything else only from this origin, no inline scripts, no plugins, no <base>. Everything else (JSON, CSV, PDF,
 * scripts and stylesheets themselves) gets one that allows nothing and sandboxes it, so a JSON or PDF answer opened
 * directly in a browser can run nothing.
 */
import type { FastifyInstance } from 'fastify';

function pageCsp(styleSrc: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src ${styleSrc}`,
    // Swagger UI's stylesheet draws its icons as data: SVGs.
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The web UI: built to need nothing inline. */
export const PAGE_CSP = pageCsp("'self'");

/**
 * The hash of the one <style> element Swagger UI renders (its logo's SVG: `.logo_small_svg__cls-2{fill:#fff}...`),
 * the only inline style it needs; its init script is a file (/docs/init.js). The browser test fails on a new
 * swagger-ui-dist that renders another.
 */
const SWAGGER_LOGO_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/** /docs: the page policy, plus Swagger UI's one inline style by its hash. */
export const DOCS_CSP = pageCsp(`'self' ${SWAGGER_LOGO_STYLE}`);

/** JSON, CSV, PDF and the UI's own assets: nothing loads, nothing runs. */
export const DATA_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";

export function addSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('content-security-policy')) {
      const type = String(reply.getHeader('content-type') ?? '');
      reply.header('content-security-policy', type.startsWith('text/html') ? PAGE_CSP : DATA_CSP);
    }
    done(null, payload);
  });
}
