/**
 * GET /v1/certificates/:id/file: the archived PDF, or on first request the provider's (through the source's session:
 * its rate-limited HTTP client), archived content-addressed by sha256 before it is served.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Certificate } from '../../domain/certificate.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { SourceSession } from '../../providers/connector.ts';
import type { FileBlob } from '../../store/index.ts';
import type { RouteDeps } from '../deps.ts';

const PDF = 'application/pdf';

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

/** What a provider's failure to hand out the file answers: not found stays 404, everything else is the provider's 502. */
function fileError(err: unknown, cert: Certificate): unknown {
  if (!isAppError(err)) return err;
  const at = `certificate ${cert.id} (${cert.provider} source ${cert.source})`;
  switch (err.code) {
    case 'not_found':
    case 'invalid_request':
      // invalid_request: the stored payload does not say where the file is (nothing the caller can fix).
      return new AppError('not_found', `the file of ${at} is not available from the provider: ${err.message}`, { cause: err });
    case 'provider_unavailable':
    case 'provider_error':
    case 'rate_limited':
      return new AppError(err.code, `fetching the file of ${at} failed: ${err.message}`, { cause: err });
    default:
      return err;
  }
}

export async function serveCertificateFile(opts: {
  deps: RouteDeps;
  tenantId: string;
  cert: Certificate;
  request: FastifyRequest;
  reply: FastifyReply;
}): Promise<FastifyReply> {
  const { deps, tenantId, cert, request, reply } = opts;
  const { store } = deps;

  if (cert.file.sha256 !== null) {
    if (etagMatches(request, `"${cert.file.sha256}"`)) return send(reply, request, cert, { sha256: cert.file.sha256, bytes: Buffer.alloc(0) });
    const blob = await store.files.getBlob(cert.file.sha256);
    if (blob !== null) return send(reply, request, cert, blob);
    // The archive lost it (restored from an older backup?): fetch it again below.
  }
  if (!cert.file.available) throw new AppError('not_found', `certificate ${cert.id} has no file at ${cert.provider} (the provider offers none for it)`);
  const source = await store.sources.getSourceBySlug(tenantId, cert.source);
  if (source === null) throw new AppError('not_found', `certificate ${cert.id}: its source ${cert.source} is gone`);
  if (deps.connector === null) throw new AppError('provider_unavailable', 'this server is not set up to talk to providers, so files cannot be fetched');

  let session: SourceSession | null = null;
  let bytes: Buffer;
  try {
    session = await deps.connector.open(source);
    const { provider } = session;
    if (provider.fetchFile === undefined) {
      throw new AppError('not_found', `${cert.provider} offers no certificate files, so certificate ${cert.id} has none`);
    }
    const parsed = provider.configSchema.safeParse(session.config);
    if (!parsed.success) throw new AppError('invalid_config', `source ${cert.source} is not configured correctly for ${cert.provider}`);
    const stored = await store.certificates.getCertificateRaw(tenantId, cert.id);
    const file = await provider.fetchFile(
      { config: parsed.data, http: session.http },
      { external_id: cert.external_id, raw: stored?.raw ?? null, subject: { provider_user_id: cert.subject.provider_user_id } },
    );
    bytes = file.bytes;
  } catch (err) {
    throw fileError(err, cert);
  } finally {
    await session?.close();
  }
  // Every provider promises a PDF; one that sends something else is not archived.
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
    throw new AppError('provider_error', `fetching the file of certificate ${cert.id} failed: ${cert.provider} sent something that is not a PDF`);
  }
  const sha256 = await store.files.putBlob(bytes, PDF);
  await store.files.setCertificateFile(tenantId, cert.id, sha256);
  return send(reply, request, cert, { sha256, bytes });
}
