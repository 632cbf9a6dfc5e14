/**
 * GET /v1/certificates/:id/file: the certificate's PDF (files/certificate-file.ts), with an ETag of its sha256. A
 * fetch from the provider has a deadline for the whole of it and stops when the client leaves.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Certificate } from '../../domain/certificate.ts';
import { AppError } from '../../errors.ts';
import { certificateFile, PDF } from '../../files/certificate-file.ts';
import type { FileBlob } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';

/** An ASCII file name from the achievement and the certificate id, safe inside a quoted header value. */
export function certificateFilename(cert: Certificate): string {
  const base = (cert.achievement.code ?? cert.achievement.title ?? 'certificate')
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `${base === '' ? 'certificate' : base}-${cert.id.replace(/[^A-Za-z0-9_-]/g, '')}.pdf`;
}

function etagMatches(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (header === undefined) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*');
}

function send(reply: FastifyReply, request: FastifyRequest, cert: Certificate, blob: Pick<FileBlob, 'sha256' | 'bytes'>) {
  const etag = `"${blob.sha256}"`;
  void reply.header('etag', etag).header('cache-control', 'private, no-cache');
  if (etagMatches(request, etag)) return reply.code(304).send();
  return reply
    .code(200)
    .type(PDF)
    .header('content-disposition', `attachment; filename="${certificateFilename(cert)}"`)
    .header('content-length', String(blob.bytes.length))
    .send(blob.bytes);
}

/** How long fetching a file from its provider may take, all of it: a provider that drips its answer is cut off. */
export const FILE_DEADLINE_MS = 60_000;

export async function serveCertificateFile(opts: {
  deps: RouteDeps;
  tenantId: string;
  cert: Certificate;
  request: FastifyRequest;
  reply: FastifyReply;
}): Promise<FastifyReply> {
  const { deps, tenantId, cert, request, reply } = opts;
  const hashOnly = cert.file.sha256 !== null && etagMatches(request, `"${cert.file.sha256}"`);
  const deadlineMs = deps.fileDeadlineMs ?? FILE_DEADLINE_MS;
  const stop = new AbortController();
  const timer = setTimeout(
    () => stop.abort(new AppError('provider_unavailable', `the provider did not hand out the file within ${deadlineMs / 1000} s`)),
    deadlineMs,
  );
  // The response closes before it finished: the client left, and nobody wants the file any more.
  const onClose = () => {
    if (!reply.raw.writableFinished) stop.abort(new AppError('cancelled', 'the client closed the connection before the file arrived'));
  };
  reply.raw.on('close', onClose);
  try {
    const blob = await certificateFile({ store: deps.store, connector: deps.connector, tenantId, cert, hashOnly, signal: stop.signal });
    return send(reply, request, cert, blob);
  } finally {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
  }
}
