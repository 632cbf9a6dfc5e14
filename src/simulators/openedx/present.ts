/**
 * The JSON the Credentials API serves, built only when serving: credential items as in the doc's
 * example, learner-status entries, and the certificate page / PDF behind `certificate_url` / `download_url`.
 */
import { makeCertificatePdf } from '../common/pdf.ts';
import { MODES } from './catalog.ts';
import { KIND_PROGRAM, STATUSES, type Attribute, type OpenedxData } from './data.ts';

/**
 * Python's `datetime.isoformat()` in UTC as DRF's JSONEncoder prints a raw datetime (rest_framework/encoders.py:
 * `+00:00` turned into `Z`): microseconds, and no fraction at all when they are zero (`2026-06-02T10:00:00Z`).
 * Serializer fields do not print this way (see drfDateTime); raw datetimes in a view's dict do.
 */
export function formatDrfDateTime(us: number): string {
  const base = new Date(Math.floor(us / 1000)).toISOString().slice(0, 19);
  const fraction = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  return fraction === 0 ? `${base}Z` : `${base}.${String(fraction).padStart(6, '0')}Z`;
}

/**
 * A serializer DateTimeField: REST_FRAMEWORK["DATETIME_FORMAT"] = "%Y-%m-%dT%H:%M:%SZ"
 * (credentials/settings/base.py), strftime in UTC: the fraction of a second is cut off, never rounded.
 */
export function drfDateTime(us: number): string {
  return `${new Date(Math.floor(us / 1_000_000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Which openedx/credentials release the API answers as (the item shape differs). */
export type OpenedxRelease = 'sumac' | 'teak';

export interface ItemShape {
  release: OpenedxRelease;
  /** Sumac only: `download_url` is an absolute link to this simulator's PDF route instead of null. */
  downloadUrls: boolean;
}

export type CredentialRef = { type: 'program'; credential_id: number; program_uuid: string } | { type: 'course-run'; course_run_key: string; mode: string };

/**
 * UserCredentialSerializer's fields in their order (credentials/apps/api/v2/serializers.py). Teak and later; Sumac
 * also has `download_url` after `status` (removed by b9d8403b "feat!: remove download_url from a UserCredential").
 */
export interface CredentialJson {
  username: string;
  credential: CredentialRef;
  status: string;
  download_url?: string | null;
  uuid: string;
  attributes: readonly Attribute[];
  date_override: { date: string } | null;
  created: string;
  modified: string;
  certificate_url: string;
}

const hexOf = (uuid: string): string => uuid.replace(/-/g, '');

/** UserCertificateURLField: reverse("credentials:render", uuid.hex) made absolute on the request's host. */
export function certificateUrl(origin: string, uuid: string): string {
  return `${origin}/credentials/${hexOf(uuid)}/`;
}

export function credentialJson(data: OpenedxData, row: number, origin: string, shape: ItemShape): CredentialJson {
  const t = data.credentials;
  const target = t.target[row] as number;
  const uuid = t.uuid[row] as string;
  let credential: CredentialRef;
  if (t.kind[row] === KIND_PROGRAM) {
    // credential_id is the ProgramCertificate's id: one per program, shared by all its awardees.
    credential = { type: 'program', credential_id: target + 1, program_uuid: data.catalog.programs[target]?.uuid ?? '' };
  } else {
    // CredentialField.to_representation: a course run has no credential_id, only its key and the certificate mode.
    const run = data.catalog.runs[target];
    credential = { type: 'course-run', course_run_key: run?.key ?? '', mode: MODES[run?.mode ?? 0] ?? 'verified' };
  }
  const override = t.dateOverride[row] ?? -1;
  const head = { username: data.users.username[t.user[row] as number] ?? '', credential, status: STATUSES[t.status[row] as number] ?? 'awarded' };
  const tail = {
    uuid,
    attributes: t.attributes[row] ?? [],
    // UserCredentialDateOverrideSerializer: fields ("date",), a DateTimeField.
    date_override: override < 0 ? null : { date: drfDateTime(override) },
    created: drfDateTime(t.created[row] as number),
    modified: drfDateTime(t.modified[row] as number),
    certificate_url: certificateUrl(origin, uuid),
  };
  if (shape.release === 'teak') return { ...head, ...tail };
  // Sumac's UserCredential.download_url: a nullable CharField nothing ever filled in (null in practice).
  return { ...head, download_url: shape.downloadUrls ? `${certificateUrl(origin, uuid)}download/` : null, ...tail };
}

/** `certificate_available_date`: a DateTimeField upstream, so a full timestamp (or null). */
export function availableDateJson(ms: number | null): string | null {
  return ms === null ? null : formatDrfDateTime(ms * 1000);
}

export interface StatusEntryJson {
  course_uuid: string;
  course_run: { uuid: string; key: string };
  status: string;
  type: string;
  certificate_available_date: string | null;
  grade: { letter_grade: string; percent_grade: number; verified: boolean } | null;
}

export function statusEntryJson(data: OpenedxData, row: number): StatusEntryJson {
  const t = data.credentials;
  const run = data.catalog.runs[t.target[row] as number];
  const course = data.catalog.courses[run?.course ?? 0];
  const mode = MODES[run?.mode ?? 0] ?? 'verified';
  const bp = t.grade[row] as number;
  return {
    course_uuid: course?.uuid ?? '',
    course_run: { uuid: run?.uuid ?? '', key: run?.key ?? '' },
    status: STATUSES[t.status[row] as number] ?? 'awarded',
    type: mode,
    certificate_available_date: availableDateJson(run?.certificateAvailableMs ?? null),
    // Upstream answers grade null when it has no UserGrade for the learner and run.
    grade: bp < 0 ? null : { letter_grade: letterGrade(bp, course?.letterGrades ?? false), percent_grade: bp / 10_000, verified: mode === 'verified' || mode === 'professional' },
  };
}

function letterGrade(bp: number, letters: boolean): string {
  if (!letters) return 'Pass';
  return bp >= 9000 ? 'A' : bp >= 8000 ? 'B' : bp >= 7000 ? 'C' : 'D';
}

/** Title of what the credential is for: the program title, or the course title for a course run. */
export function achievementTitle(data: OpenedxData, row: number): string {
  const t = data.credentials;
  const target = t.target[row] as number;
  if (t.kind[row] === KIND_PROGRAM) return data.catalog.programs[target]?.title ?? '';
  const run = data.catalog.runs[target];
  return data.catalog.courses[run?.course ?? 0]?.title ?? '';
}

/** The learner's name as the LMS profile has it (world people), else the username. */
export function holderName(data: OpenedxData, row: number): string {
  const u = data.credentials.user[row] as number;
  const person = data.world.people[data.users.person[u] ?? -1];
  return person ? `${person.firstName} ${person.lastName}` : (data.users.username[u] ?? '');
}

export function certificatePdf(data: OpenedxData, row: number): Buffer {
  const t = data.credentials;
  const target = t.target[row] as number;
  const what = t.kind[row] === KIND_PROGRAM ? `Program: ${data.catalog.programs[target]?.title ?? ''}` : `Course: ${data.catalog.runs[target]?.key ?? ''}`;
  return makeCertificatePdf([
    achievementTitle(data, row),
    `Awarded to ${holderName(data, row)}`,
    what,
    `Credential ${t.uuid[row] ?? ''}`,
    `Issued ${formatDrfDateTime(t.created[row] as number).slice(0, 10)}`,
  ]);
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function certificateHtml(data: OpenedxData, row: number): string {
  const t = data.credentials;
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(achievementTitle(data, row))}</title></head><body>
<h1>${escapeHtml(achievementTitle(data, row))}</h1>
<p class="accomplishment-recipient">${escapeHtml(holderName(data, row))}</p>
<p class="accomplishment-date">${formatDrfDateTime(t.created[row] as number).slice(0, 10)}</p>
<p class="credential-id">${t.uuid[row] ?? ''}</p>
</body></html>\n`;
}
