/**
 * The HTML answers Django gives around the Credentials API (production settings, DEBUG off): the
 * service's own 404 and 500 templates (credentials/templates/404.html, 500.html, both extending
 * base.html, here reduced to their title and heading) and Django's built-in 400 page
 * (django/views/defaults.py ERROR_PAGE_TEMPLATE; the service ships no 400.html).
 */
import type { SimResponse } from '../common/server.ts';

const HTML = { 'content-type': 'text/html; charset=utf-8' };

/** The site name the templates print after the title (`{% firstof site.name platform_name %}`). */
export const SITE_NAME = 'Open edX Credentials';

function themedPage(title: string, heading: string): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n</head>\n<body>\n<div>\n<h1>${heading}</h1>\n</div>\n</body>\n</html>\n`;
}

/** An unknown path (Django's URL resolver found nothing): credentials/templates/404.html. */
export function notFoundPage(): SimResponse {
  return { status: 404, headers: HTML, body: themedPage(`Page Not Found | ${SITE_NAME}`, 'Page Not Found') };
}

/** An uncaught exception in a view: handler500 = credentials.apps.core.views.render_500 (500.html). */
export function serverErrorPage(): SimResponse {
  return { status: 500, headers: HTML, body: themedPage('Server Error', 'Server Error') };
}

/** django.core.exceptions.BadRequest escaping a view: django.views.defaults.bad_request without a 400.html. */
export function badRequestPage(): SimResponse {
  const title = 'Bad Request (400)';
  return { status: 400, headers: HTML, body: `\n<!doctype html>\n<html lang="en">\n<head>\n  <title>${title}</title>\n</head>\n<body>\n  <h1>${title}</h1><p></p>\n</body>\n</html>\n` };
}
