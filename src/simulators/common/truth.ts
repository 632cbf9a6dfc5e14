/**
 * The ground truth a simulator publishes at `GET /__sim/truth`: each certificate it exposes now,
 * in the normalized shape certhub's connectors must produce (DESIGN.md), minus the raw payload,
 * plus `person_key`, the world person behind it (for identity-resolution tests).
 *
 * What is absent: a certificate removed outright (Open edX, Falkor, Springest removal) is not in
 * the truth; certhub must then hold it as `deleted`. A FrontCore diploma with `deleted_at` stays
 * in the truth with status `deleted`, because FrontCore keeps returning it.
 */
import type { NormalizedCertificate } from '../../domain/certificate.ts';

export type TruthCertificate = Omit<NormalizedCertificate, 'raw' | 'subject'> & {
  subject: Omit<NormalizedCertificate['subject'], 'national_id'>;
  person_key: string;
};

export function sortTruth(items: TruthCertificate[]): TruthCertificate[] {
  return items.sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0));
}
