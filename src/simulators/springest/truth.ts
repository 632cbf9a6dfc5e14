/**
 * Ground truth for one Springest host: each certificate GET /users/certificates shows now, in the
 * shape certhub's connector must produce (DESIGN.md "The normalized certificate"). Mapping decisions:
 * - Only visible certificates: not removed and their certification verified ("it will only be visible
 *   via GET calls if the linked certification_id is verified"). A removed certificate, or one whose
 *   certification is unverified again, is absent: certhub must hold it as `deleted` after its daily
 *   full read (Springest has no deletion marker and no updated_at).
 * - external_id = the certificate `id` as a string (ids are unique per host; a source is one host).
 * - status: the doc lists `status` without values. The simulator serves "approved" (generated and posted
 *   certificates) -> awarded; a control route can set "pending" -> pending and "rejected" -> revoked.
 * - subject: provider_user_id = user.external_id (the employee number), email exactly as Springest spells
 *   it (case and stray spaces kept), first_name / last_name / date_of_birth null: the API gives none.
 * - achievement: {type 'certification', external_id: certification_id as a string, title: the
 *   certificate's `name` (its certification's name), code: null (Springest has no code)}.
 * - issued_at = created_at (ISO UTC, whole seconds); valid_from / valid_until exactly as served
 *   (valid_until null when the certification does not require it and none was given).
 * - serial null (none exists); file.available false: the GET returns no file or link, so certhub cannot
 *   download Springest PDFs (the simulator's own /__sim/certificates/:id/pdf is not the provider's API).
 * - person_key: the world person behind the user, or `new:<email>` for an address no world person has.
 */
import type { CertificateStatus } from '../../domain/certificate.ts';
import { sortTruth, type TruthCertificate } from '../common/truth.ts';
import { isVisible, type SpringestHost, type SpringestStatus } from './model.ts';
import { presentCertificate } from './present.ts';

export const STATUS_TO_NORMALIZED: Record<SpringestStatus, CertificateStatus> = { approved: 'awarded', pending: 'pending', rejected: 'revoked' };

export function springestTruth(host: SpringestHost): TruthCertificate[] {
  const out: TruthCertificate[] = [];
  const t = host.certificates;
  for (let row = 0; row < t.length; row++) {
    if (!isVisible(host, row)) continue;
    const c = presentCertificate(host, row);
    out.push({
      external_id: String(c.id),
      status: STATUS_TO_NORMALIZED[c.status as SpringestStatus],
      subject: { provider_user_id: c.user.external_id, email: c.user.email, first_name: null, last_name: null, date_of_birth: null },
      achievement: { type: 'certification', external_id: String(c.certification_id), title: c.name, code: null },
      issued_at: c.created_at,
      valid_from: c.valid_from,
      valid_until: c.valid_until,
      serial: null,
      file: { available: false },
      person_key: host.users[t.user[row] as number]?.personKey ?? '',
    });
  }
  return sortTruth(out);
}
