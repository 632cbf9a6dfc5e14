/** A certificate's file as a provider hands it out, and the one way certhub downloads such a file from a link. */
import { AppError } from '../errors.ts';
import type { ProviderHttpClient } from './http/client.ts';

export interface CertificateFile {
  bytes: Buffer;
  contentType: 'application/pdf';
  /** What the provider would call it, e.g. `diploma-12345.pdf`. */
  filename: string;
}

/** What a stored certificate tells a provider about where its file is. */
export interface CertificateFileRef {
  external_id: string;
  /** The provider payload last stored (national ids scrubbed). */
  raw?: unknown;
  subject?: { provider_user_id: string | null };
}

export interface FileContext<Cfg> {
  config: Cfg;
  http: ProviderHttpClient;
  signal?: AbortSignal | undefined;
}

export function isPdf(bytes: Buffer): boolean {
  return bytes.subarray(0, 5).toString('latin1') === '%PDF-';
}

/**
 * GET a link the provider handed out (a permalink, a download URL) without the account's credentials: the link
 * itself is the credential, and it could point at another host. Bytes that are not a PDF are AppError('provider_error'); a link
 * that answers 404 or 410 is AppError('not_found').
 */
export async function downloadPdfLink(http: ProviderHttpClient, link: string, endpoint: string, signal?: AbortSignal): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new AppError('provider_error', `${endpoint}: the provider's link is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('provider_error', `${endpoint}: the provider's link is not http(s)`);
  const res = await http.request<Buffer>({
    method: 'GET',
    url,
    endpoint,
    parse: 'buffer',
    expectStatus: [200, 404, 410],
    ...(signal === undefined ? {} : { signal }),
  });
  if (res.status !== 200) throw new AppError('not_found', `${endpoint}: the provider no longer has this file (HTTP ${res.status})`);
  if (!isPdf(res.data)) throw new AppError('provider_error', `${endpoint} returned something that is not a PDF (${res.data.length} bytes)`);
  return res.data;
}
