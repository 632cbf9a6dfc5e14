/**
 * Ground truth for one Falkor account (= one certhub source), in the shape certhub's connector must
 * produce (DESIGN.md, "The normalized certificate"). Every mapping decision, and why:
 */
import type { AchievementType } from '../../domain/certificate.ts';
import { sortTruth, type TruthCertificate } from '../common/truth.ts';
import { DELIVERED, type FalkorAccount } from './model.ts';
import type { OsloFormat } from './oslo.ts';

export function falkorTruth(account: FalkorAccount, origin: string, fmt: OsloFormat): TruthCertificate[] {
  const t = account.table;
  const out: TruthCertificate[] = [];
  for (let row = 0; row < t.length; row++) {
    // A removed certificate is no longer served: it is absent here, and certhub must hold it as `deleted`.
    if (t.removed[row] === 1) continue;
    const p = account.people[t.learner[row] as number];
    const story = account.stories[t.story[row] as number];
    if (!p || !story) continue;
    const ms = t.timestamp[row] as number;
    out.push({
      // Falkor certificates carry no id: the permalink `certificate.url` is the only stable key.
      external_id: account.permalink(origin, row),
      // "certificate.state Enum (pending, delivered)": delivered = awarded; pending = not yet awarded.
      // Falkor never revokes; a removed certificate disappears (see above).
      status: t.state[row] === DELIVERED ? 'awarded' : 'pending',
      subject: {
        // Falkor exposes no user id and no birth date.
        provider_user_id: null,
        // Exactly as Falkor spells it (letter case, stray spaces): identity resolution normalizes, not the connector.
        email: p.email,
        first_name: p.firstname,
        last_name: p.lastname,
        date_of_birth: null,
      },
      achievement: {
        // Served capitalized ("Story", "SCORM"; the doc's example), documented lower-case: lower-cased.
        type: story.type.toLowerCase() as AchievementType,
        // Story IDs repeat (the doc's example gives two stories one ID): the key is ID and name together.
        external_id: `${story.id}:${story.name}`,
        title: story.name,
        code: story.id,
      },
      // The timestamp (Oslo time with offset) as the UTC instant, whole seconds: `2021-09-28T09:14:23Z`.
      issued_at: fmt.isoUtc(ms),
      // Falkor has no validity period: valid from the day of the timestamp as printed (its Oslo date), no end.
      valid_from: fmt.localDate(ms),
      valid_until: null,
      // No serial number in Falkor's answer.
      serial: null,
      // The permalink serves the PDF (for pending certificates too).
      file: { available: true },
      person_key: p.personKey,
    });
  }
  return sortTruth(out);
}
