/**
 * Ground truth for one Springest host, in the shape certhub's connector must produce.
 * - Only visible certificates (certification verified, not removed): GET shows nothing else.
 * - external_id = certificate `id`; status: every visible certificate is 'awarded' (the doc lists a
 *   `status` field without values; the simulator always says "approved").
 * - subject: provider_user_id = user.external_id, email as spelled, no names or birth date (the API gives none).
 * - achievement: certification {type 'certification', external_id: certification_id, title: its name, code: null}.
 * - issued_at = created_at; valid_from / valid_until as given; no serial; file.available false (GET returns no file).
 */
import { sortTruth, type TruthCertificate } from '../common/truth.ts';
import { isVisible, type SpringestHost } from './model.ts';

export function springestTruth(host: SpringestHost): TruthCertificate[] {
  const out: TruthCertificate[] = [];
  for (const c of host.certificates) {
    if (!isVisible(host, c)) continue;
    const user = host.users[c.user];
    const certification = host.certifications[c.certification];
    if (!user || !certification) continue;
    out.push({
      external_id: String(c.id),
      status: 'awarded',
      subject: { provider_user_id: user.external_id, email: user.email, first_name: null, last_name: null, date_of_birth: null },
      achievement: { type: 'certification', external_id: String(certification.id), title: certification.name, code: null },
      issued_at: new Date(c.createdAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      valid_from: c.valid_from,
      valid_until: c.valid_until,
      serial: null,
      file: { available: false },
      person_key: user.personKey,
    });
  }
  return sortTruth(out);
}
