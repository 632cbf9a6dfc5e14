/** Open edX credential -> the normalized Certificate (pure). */
import type { NormalizedCertificate } from '../../domain/certificate.ts';
import type { CatalogAchievement } from '../provider.ts';
import type { Credential } from './schema.ts';

export interface Titles {
  programs: ReadonlyMap<string, string | null>;
  runs: ReadonlyMap<string, string | null>;
}

/** `created` (microseconds) as an ISO instant to the millisecond, `.000` dropped. */
function toUtc(text: string): string | null {
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : new Date(t).toISOString().replace('.000Z', 'Z');
}

export function toAchievement(c: Credential, titles: Titles): CatalogAchievement {
  const runKey = c.credential.course_run_key;
  if (runKey) return { type: 'course_run', external_id: runKey, title: titles.runs.get(runKey) ?? null, code: runKey };
  const uuid = (c.credential.program_uuid ?? '').toLowerCase();
  return { type: 'program', external_id: uuid, title: titles.programs.get(uuid) ?? null, code: null };
}

export function toCertificate(c: Credential, titles: Titles): NormalizedCertificate {
  const { extra: _extra, ...achievement } = toAchievement(c, titles);
  const issued = toUtc(c.created);
  return {
    external_id: c.uuid.toLowerCase(),
    status: c.status,
    // The Credentials API knows a learner only by username; where the LMS uses email addresses as usernames,
    // that is the learner's email (kept as spelled; identity normalizes it).
    subject: { provider_user_id: c.username, email: c.username.includes('@') ? c.username : null, first_name: null, last_name: null, date_of_birth: null },
    achievement,
    issued_at: issued,
    valid_from: issued?.slice(0, 10) ?? null,
    valid_until: null,
    serial: null,
    file: { available: true },
    raw: c,
  };
}
