/** FrontCore diploma -> the normalized certificate (pure). Zone-less datetimes are read in the source's zone. */
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { parseZoneless } from '../../domain/time.ts';
import type { CatalogAchievement } from '../provider.ts';
import type { Diploma, Participant } from './schema.ts';

export interface NormalizeContext {
  /** The source's `timezone` (default Europe/Oslo): FrontCore prints wall-clock time without a zone. */
  timeZone: string;
}

/** A zone-less FrontCore datetime as ISO-8601 UTC without milliseconds, or null. */
export function zonelessToUtc(text: string | null | undefined, timeZone: string): string | null {
  if (!text) return null;
  const at = parseZoneless(text, timeZone);
  return at === null ? null : at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toCertificate(d: Diploma, ctx: NormalizeContext): NormalizedCertificate {
  // "deleted_at marks removal" (DESIGN.md): FrontCore keeps listing the diploma, so we keep it, as deleted.
  const deleted = d.deleted_at !== null && d.deleted_at !== undefined;
  return {
    external_id: String(d.id),
    // FrontCore has no pending or revoked diplomas: a pre-issued one (course not over) or a participation diploma
    // (is_passed false) is still a diploma FrontCore issued; valid_from keeps the first from counting too early.
    status: deleted ? 'deleted' : 'awarded',
    // As FrontCore spells it: identity resolution normalizes (emails, names), not the connector.
    subject: {
      provider_user_id: String(d.user.id),
      email: d.user.email ?? null,
      first_name: d.user.firstname ?? null,
      last_name: d.user.lastname ?? null,
      date_of_birth: d.user.date_of_birth ?? null,
      // Held in memory only: the store keeps ciphertext + HMAC for matching, never the number itself.
      national_id: d.user.national_identification_number ?? null,
    },
    achievement: toCourseAchievement(d.course),
    // The diploma's creation is its issue.
    issued_at: zonelessToUtc(d.created_at, ctx.timeZone),
    // The local calendar day the course date ended: a diploma printed before the course is over is not valid before.
    valid_from: d.coursedate?.end_at?.slice(0, 10) ?? null,
    // FrontCore diplomas carry no end date.
    valid_until: null,
    // null on old diplomas, issued before FrontCore numbered them.
    serial: d.serial ?? null,
    // A deleted diploma's links answer 404.
    file: { available: !deleted },
    raw: withoutDownloadToken(d),
  };
}

/**
 * The diploma as sent, minus the signed token in `links.download`: it is new on every request (it would make an
 * unchanged diploma look changed on every sync) and it is a credential that must not be stored. A fresh link is
 * asked for whenever the PDF is needed (fetchDiplomaFile).
 */
export function withoutDownloadToken(d: Diploma): Diploma {
  const download = d.links?.download;
  if (!download) return d;
  let stripped: string;
  try {
    const url = new URL(download);
    url.searchParams.delete('token');
    stripped = url.toString();
  } catch {
    stripped = download.replace(/([?&])token=[^&#]*&?/, '$1').replace(/[?&]$/, '');
  }
  return { ...d, links: { ...d.links, download: stripped } };
}

export function toCourseAchievement(course: { id: number; title?: string | null | undefined; reference?: string | null | undefined }): CatalogAchievement {
  // FrontCore diplomas are always for a course: code = the course's `reference`.
  return { type: 'course', external_id: String(course.id), title: course.title ?? null, code: course.reference ?? null };
}

/** Courses seen on a page, from participants and diplomas, once each (a diploma's course wins: it is fuller). */
export function pageCourses(diplomas: readonly Diploma[], participants: readonly Participant[]): CatalogAchievement[] {
  const byId = new Map<number, CatalogAchievement>();
  for (const p of participants) if (p.course) byId.set(p.course.id, toCourseAchievement(p.course));
  for (const d of diplomas) byId.set(d.course.id, toCourseAchievement(d.course));
  return [...byId.values()];
}
