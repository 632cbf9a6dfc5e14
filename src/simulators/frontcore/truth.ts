/**
 * FrontCore ground truth: every diploma the API exposes now, normalized exactly as the FrontCore
 * connector must normalize an item of `GET /v2/diplomas` (DESIGN.md "The normalized certificate").
 * Each mapping decision is stated next to the field it fills.
 */
import { sortTruth, type TruthCertificate } from '../common/truth.ts';
import type { FrontcoreData } from './model.ts';
import type { Presenter } from './present.ts';

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export function frontcoreTruth(data: FrontcoreData, present: Presenter): TruthCertificate[] {
  const zc = present.zc;
  const out: TruthCertificate[] = [];
  const t = data.diplomas;
  for (let d = 0; d < t.length; d++) {
    const u = present.userOf(d);
    const who = present.identity(u);
    const course = present.courseOf(d);
    const deleted = (t.deletedAt[d] as number) !== 0;
    out.push({
      // The diploma's numeric `id`, as a decimal string.
      external_id: String(t.id[d]),
      // FrontCore keeps returning a removed diploma with `deleted_at` set: that is `deleted`.
      // Anything else is `awarded`, also a pre-issued diploma (is_completed false, course not over yet)
      // and a participation diploma (is_passed false): FrontCore issued it, and that is what we record.
      status: deleted ? 'deleted' : 'awarded',
      subject: {
        // `user.id` as a string; a person's second (private) account is a different user id.
        provider_user_id: String(data.users.id[u]),
        // `user.email` exactly as FrontCore spells it: letter case and stray spaces kept, not normalized.
        email: who.email,
        first_name: who.firstname,
        last_name: who.lastname,
        date_of_birth: who.date_of_birth,
      },
      // FrontCore diplomas are always for a course: external_id = `course.id`, code = `course.reference`.
      achievement: { type: 'course', external_id: String(course.id), title: course.title, code: course.reference },
      // `created_at` (zone-less) read as Europe/Oslo wall-clock time, printed as UTC. readBack gives the
      // instant a reader of the zone-less text gets (it differs from the stored one only inside the
      // repeated autumn DST hour, where the text is ambiguous; common/time.ts parseZoneless decides).
      issued_at: iso(zc.readBack(t.createdAt[d] as number)),
      // The local calendar date the coursedate ended (`coursedate.end_at`), not the issue date: a diploma
      // printed before the course is over is not valid before the course is.
      valid_from: zc.date(present.coursedateOf(d).endAt),
      // FrontCore diplomas carry no end date.
      valid_until: null,
      // `serial` as given; null for old diplomas issued before FrontCore numbered them.
      serial: present.serial(d),
      // The PDF can be downloaded unless the diploma is deleted (its links then answer 404).
      file: { available: !deleted },
      person_key: who.holder.key,
    });
  }
  return sortTruth(out);
}
