/** Springest certificate -> the normalized Certificate (pure). */
import type { CertificateStatus, NormalizedCertificate } from '../../domain/certificate.ts';
import type { CatalogAchievement } from '../provider.ts';
import type { SpringestCertificate, SpringestCertification } from './schema.ts';

/**
 * The doc names a `status` field without listing values. Assumed: anything saying revoked / rejected /
 * withdrawn / invalid is revoked, anything pending / awaiting is pending, everything else (e.g. "approved",
 * the only value the GET of verified certificates has been seen to carry) is awarded.
 */
export function toStatus(status: string | null | undefined): CertificateStatus {
  const s = (status ?? '').toLowerCase();
  if (/revok|reject|withdraw|invalid/.test(s)) return 'revoked';
  if (/pending|awaiting|review/.test(s)) return 'pending';
  return 'awarded';
}

function toUtc(text: string): string | null {
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const blankToNull = (v: string | number | null | undefined): string | null => (v === null || v === undefined || String(v).trim() === '' ? null : String(v));

export function toCertificate(c: SpringestCertificate): NormalizedCertificate {
  return {
    external_id: String(c.id),
    status: toStatus(c.status),
    subject: { provider_user_id: blankToNull(c.user.external_id), email: blankToNull(c.user.email), first_name: null, last_name: null, date_of_birth: null },
    achievement: { type: 'certification', external_id: String(c.certification_id), title: blankToNull(c.name), code: null },
    issued_at: toUtc(c.created_at),
    valid_from: c.valid_from?.slice(0, 10) ?? null,
    valid_until: c.valid_until?.slice(0, 10) ?? null,
    serial: null,
    // The GET carries no file or link (springest-certificates.txt): certhub cannot fetch Springest PDFs.
    file: { available: false },
    raw: c,
  };
}

export function toCertificationAchievement(c: SpringestCertification): CatalogAchievement {
  return {
    type: 'certification',
    external_id: String(c.id),
    title: c.name,
    code: null,
    extra: { description: c.description ?? null, requires_valid_until: c.requires_valid_until === true },
  };
}
