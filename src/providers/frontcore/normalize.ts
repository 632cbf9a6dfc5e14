/** FrontCore diploma -> the normalized Certificate (pure). Zone-less datetimes are read in the source's zone. */
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import { parseZoneless } from '../../domain/time.ts';
import type { CatalogAchievement } from '../provider.ts';
import type { Diploma, Participant } from './schema.ts';

const blankToNull = (v: string | null | undefined): string | null => (v === null || v === undefined || v.trim() === '' ? null : v);

/** A zone-less FrontCore datetime as ISO-8601 UTC without milliseconds, or null. */
export function zonelessToUtc(text: string | null | undefined, timeZone: string): string | null {
  if (!text) return null;
  const at = parseZoneless(text, timeZone);
  return at === null ? null : at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toCertificate(d: Diploma, timeZone: string): NormalizedCertificate {
  const deleted = d.deleted_at !== null && d.deleted_at !== undefined;
  return {
    external_id: String(d.id),
    status: deleted ? 'deleted' : 'awarded',
    subject: {
      provider_user_id: String(d.user.id),
      email: blankToNull(d.user.email),
      first_name: blankToNull(d.user.firstname),
      last_name: blankToNull(d.user.lastname),
      date_of_birth: blankToNull(d.user.date_of_birth),
      // Kept only in memory: the store keeps ciphertext + HMAC for matching, never the number itself.
      national_id: blankToNull(d.user.national_identification_number),
    },
    achievement: { type: 'course', external_id: String(d.course.id), title: blankToNull(d.course.title), code: blankToNull(d.course.reference) },
    // The diploma's own creation is when it was issued.
    issued_at: zonelessToUtc(d.created_at, timeZone),
    // Valid from the day the course date ended (its local calendar date); FrontCore diplomas carry no end date.
    valid_from: d.coursedate?.end_at?.slice(0, 10) ?? null,
    valid_until: null,
    serial: blankToNull(d.serial),
    file: { available: !deleted },
    raw: withoutDownloadToken(d),
  };
}

/**
 * The diploma as sent, minus the signed token in `links.download`: it is new on every request (so it would make
 * an unchanged diploma look changed) and it is a credential that must not be stored. A fresh link is asked for
 * whenever the PDF is needed.
 */
export function withoutDownloadToken(d: Diploma): Diploma {
  const download = d.links?.download;
  if (!download) return d;
  let stripped = download;
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
  return { type: 'course', external_id: String(course.id), title: blankToNull(course.title), code: blankToNull(course.reference) };
}

/** Courses seen on a page, from diplomas and participants, once each. */
export function pageCourses(diplomas: readonly Diploma[], participants: readonly Participant[]): CatalogAchievement[] {
  const byId = new Map<number, CatalogAchievement>();
  for (const p of participants) if (p.course) byId.set(p.course.id, toCourseAchievement(p.course));
  for (const d of diplomas) byId.set(d.course.id, toCourseAchievement(d.course));
  return [...byId.values()];
}
