/**
 * Ground truth for one Falkor account, in the shape certhub's connector must produce.
 * - external_id = the permalink `certificate.url` (certificates carry no id);
 * - status: delivered -> awarded, pending -> pending;
 * - achievement.external_id = `${story.ID}:${story.name}`, because story IDs repeat (doc example);
 *   type = story type lower-cased (the example prints "Story", the table says "story");
 * - issued_at = timestamp in UTC; valid_from = its Oslo calendar date; no end date, no serial.
 */
import { sortTruth, type TruthCertificate } from '../common/truth.ts';
import { formatZoneless } from '../common/time.ts';
import type { AchievementType } from '../../domain/certificate.ts';
import { certificateUrl } from './api.ts';
import type { FalkorAccount } from './model.ts';

export function falkorTruth(account: FalkorAccount, origin: string): TruthCertificate[] {
  const out: TruthCertificate[] = [];
  for (const cert of account.certificates) {
    if (cert.removed) continue;
    const p = account.people[cert.person];
    const story = account.stories[cert.story];
    if (!p || !story) continue;
    const at = new Date(cert.timestampMs);
    out.push({
      external_id: certificateUrl(origin, account, cert),
      status: cert.state === 'delivered' ? 'awarded' : 'pending',
      subject: { provider_user_id: null, email: p.email, first_name: p.firstname, last_name: p.lastname, date_of_birth: null },
      achievement: { type: story.type.toLowerCase() as AchievementType, external_id: `${story.id}:${story.name}`, title: story.name, code: story.id },
      issued_at: new Date(Math.floor(cert.timestampMs / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      valid_from: formatZoneless(at, 'Europe/Oslo').slice(0, 10),
      valid_until: null,
      serial: null,
      file: { available: true },
      person_key: p.personKey,
    });
  }
  return sortTruth(out);
}
