/**
 * A certificate's PDF: the archived copy, or on first request the provider's (through the source's session: its
 * rate-limited HTTP client), archived content-addressed by sha256 before it is handed out. Every provider promises a
 * PDF (providers/file.ts); one that sends something else is not archived.
 */
import type { Certificate } from '../domain/certificate.ts';
import { AppError, isAppError } from '../errors.ts';
import type { SourceConnector, SourceSession } from '../providers/connector.ts';
import { isPdf } from '../providers/file.ts';
import type { FileBlob, Store } from '../store/index.ts';

export const PDF = 'application/pdf';

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

/**
 * The certificate's file as archived, fetching and archiving it first when the archive has none. `knownSha256`: the
 * archive is not read when the caller already holds this version (an If-None-Match), and `bytes` is then empty.
 */
export async function certificateFile(opts: {
  store: Store;
  connector: SourceConnector | null;
  tenantId: string;
  cert: Certificate;
  /** Skip reading the archived bytes (the caller only needs the hash). */
  hashOnly?: boolean;
  /** Aborts the provider's requests (a deadline, a client that left); its reason is what the fetch throws. */
  signal?: AbortSignal;
}): Promise<Pick<FileBlob, 'sha256' | 'bytes'>> {
  const { store, connector, tenantId, cert } = opts;
  if (cert.file.sha256 !== null) {
    if (opts.hashOnly === true) return { sha256: cert.file.sha256, bytes: Buffer.alloc(0) };
    const blob = await store.files.getBlob(cert.file.sha256);
    if (blob !== null) return blob;
    // The archive lost it (restored from an older backup?): fetch it again below.
  }
  if (!cert.file.available) throw new AppError('not_found', `certificate ${cert.id} has no file at ${cert.provider} (the provider offers none for it)`);
  const source = await store.sources.getSourceBySlug(tenantId, cert.source);
  if (source === null) throw new AppError('not_found', `certificate ${cert.id}: its source ${cert.source} is gone`);
  if (connector === null) throw new AppError('provider_unavailable', 'this server is not set up to talk to providers, so files cannot be fetched');

  let session: SourceSession | null = null;
  let bytes: Buffer;
  try {
    session = await connector.open(source, opts.signal);
    const { provider } = session;
    if (provider.fetchFile === undefined) {
      throw new AppError('not_found', `${cert.provider} offers no certificate files, so certificate ${cert.id} has none`);
    }
    const stored = await store.certificates.getCertificateRaw(tenantId, cert.id);
    const file = await provider.fetchFile(
      { config: session.config, http: session.http, signal: opts.signal },
      { external_id: cert.external_id, raw: stored?.raw ?? null, subject: { provider_user_id: cert.subject.provider_user_id } },
    );
    bytes = file.bytes;
  } catch (err) {
    // Whichever request was cut off, the reason is the abort's (the deadline, the client gone), not a provider's.
    throw fileError(opts.signal?.aborted === true ? opts.signal.reason : err, cert);
  } finally {
    await session?.close();
  }
  if (!isPdf(bytes)) {
    throw new AppError('provider_error', `fetching the file of certificate ${cert.id} failed: ${cert.provider} sent something that is not a PDF`);
  }
  const sha256 = await store.files.putBlob(bytes, PDF);
  await store.files.setCertificateFile(tenantId, cert.id, sha256);
  return { sha256, bytes };
}
