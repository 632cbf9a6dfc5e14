/**
 * Who may scrape GET /metrics: whoever sends the metrics token (`Authorization: Bearer <CERTHUB_METRICS_TOKEN>`).
 * The series cover every tenant of the process, so a tenant's API key (even an admin one) is not enough; without a
 * token configured, /metrics is closed to everyone.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export function createMetricsAccess(token: string | null): (request: FastifyRequest) => void {
  const expected = token === null || token === '' ? null : digest(token);
  return (request) => {
    if (expected === null) {
      throw new AppError('unauthorized', '/metrics is closed: the server has no metrics token (set CERTHUB_METRICS_TOKEN)');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Compared as hashes: equal lengths for timingSafeEqual, and no early exit on the first wrong character.
    if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), expected)) {
      throw new AppError('unauthorized', '/metrics needs the metrics token: send "Authorization: Bearer <CERTHUB_METRICS_TOKEN>"');
    }
  };
}
