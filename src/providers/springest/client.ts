/**
 * Springest's endpoints (springest-certificates.txt), all through the shared ProviderHttpClient, which
 * redacts `api_key` (it travels in the query string) from every error and log line.
 *
 * Paths carry the `.json` extension. Springest's API introduction says "Pick your preferred output format by
 * changing the extension of your request to either .xml or .json" (help.admin.springest.nl/article/539), and every
 * public client calls `<path>.json?api_key=` (common-repository/springest-partners inc/SpringestApi.inc.php,
 * FransVanEk/Springest.Net Trainings/Trainings.cs). The certificates page names `/users/certificates?api_key=`
 * with "Format: json", but without an extension the format is the server's choice (issue 14).
 */
import type { ProviderHttpClient } from '../http/index.ts';
import { createTokenBucket, endpointUrl, parsePayload, type Limiter } from '../http/index.ts';
import { certificatesResponseSchema, certificationsResponseSchema, postCertificateResponseSchema, type SpringestCertificate, type SpringestCertification } from './schema.ts';

export interface SpringestAccount {
  base_url: string;
  api_key: string;
  certifications_api_key?: string | undefined;
}

export const LIST_CERTIFICATES = 'GET /users/certificates';
export const POST_CERTIFICATE = 'POST /users/certificates';
export const LIST_CERTIFICATIONS = 'GET /certifications';

export interface CertificateFilters {
  email?: string;
  certification_id?: string | number;
  /** YYYY-MM-DD: "certificates created on or after that date" (inclusive). */
  created_from?: string;
}

/** `<path>.json`: the extension picks JSON (see above). */
const CERTIFICATES_PATH = 'users/certificates.json';
const CERTIFICATIONS_PATH = 'certifications.json';

// GET <base_url>/users/certificates.json?api_key=...&email=&certification_id=&created_from=
export async function listCertificates(http: ProviderHttpClient, account: SpringestAccount, filters: CertificateFilters = {}, signal?: AbortSignal): Promise<SpringestCertificate[]> {
  const res = await http.request<unknown>({
    method: 'GET',
    url: endpointUrl(account.base_url, CERTIFICATES_PATH),
    query: { api_key: account.api_key, email: filters.email, certification_id: filters.certification_id, created_from: filters.created_from },
    endpoint: LIST_CERTIFICATES,
    ...(signal === undefined ? {} : { signal }),
  });
  return parsePayload(LIST_CERTIFICATES, certificatesResponseSchema, res.data);
}

// GET <base_url>/certifications.json?api_key=<certifications key>  ("you will need a different api_key for certifications")
export async function listCertifications(http: ProviderHttpClient, account: SpringestAccount & { certifications_api_key: string }, signal?: AbortSignal): Promise<SpringestCertification[]> {
  const res = await http.request<unknown>({
    method: 'GET',
    url: endpointUrl(account.base_url, CERTIFICATIONS_PATH),
    query: { api_key: account.certifications_api_key },
    endpoint: LIST_CERTIFICATIONS,
    ...(signal === undefined ? {} : { signal }),
  });
  return parsePayload(LIST_CERTIFICATIONS, certificationsResponseSchema, res.data);
}

export interface OutboundSpringestCertificate {
  certification_id: number | string;
  email: string;
  valid_from: string;
  /** Required when the certification's `requires_valid_until` is true. */
  valid_until?: string | null;
  conversion_id?: number | null;
  /** The raw PDF bytes: "Base64 is not allowed". */
  pdf: Buffer;
  filename?: string;
}

/** "a limit of POSTing max 30 certificates per minute": certhub posts at 90% of it (27 per minute) per key. */
export function createPostLimiter(): Limiter {
  return createTokenBucket({ requests: 27, perSeconds: 60 });
}

// POST <base_url>/users/certificates.json?api_key=...  multipart/form-data: certification_id, email, valid_from, valid_until?, conversion_id?, file
export async function postCertificate(http: ProviderHttpClient, account: SpringestAccount, cert: OutboundSpringestCertificate, postLimiter: Limiter, signal?: AbortSignal): Promise<{ id: string }> {
  const form = new FormData();
  form.append('certification_id', String(cert.certification_id));
  form.append('email', cert.email);
  form.append('valid_from', cert.valid_from);
  if (cert.valid_until) form.append('valid_until', cert.valid_until);
  if (cert.conversion_id !== undefined && cert.conversion_id !== null) form.append('conversion_id', String(cert.conversion_id));
  form.append('file', new Blob([new Uint8Array(cert.pdf)], { type: 'application/pdf' }), cert.filename ?? 'certificate.pdf');
  const res = await http.request<unknown>({
    method: 'POST',
    url: endpointUrl(account.base_url, CERTIFICATES_PATH),
    query: { api_key: account.api_key },
    body: form,
    endpoint: POST_CERTIFICATE,
    // Creating twice would post the certificate twice: never retried after the provider may have acted.
    idempotent: false,
    limiter: postLimiter,
    ...(signal === undefined ? {} : { signal }),
  });
  const parsed = parsePayload(POST_CERTIFICATE, postCertificateResponseSchema, res.data);
  return { id: String(parsed.certificate.id) };
}
