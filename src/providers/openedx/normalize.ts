/** Open edX credential -> the normalized certificate (pure; DESIGN.md "The normalized certificate"). */
import type { Achievement, NormalizedCertificate } from '../../domain/certificate.ts';
import type { CatalogAchievement } from '../provider.ts';
import type { Credential } from './schema.ts';

/** Titles from the course-discovery catalog: programs by lower-case uuid, course runs by key. */
export interface Titles {
  programs: ReadonlyMap<string, string | null>;
  runs: ReadonlyMap<string, string | null>;
}

export interface NormalizeContext {
  titles: Titles;
}

const DRF_DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A DRF datetime as an ISO-8601 UTC instant to the millisecond, `.000` dropped (`2025-09-17T09:28:35.075Z`).
 * DRF prints Python isoformat: microseconds, or NO fraction at a whole second; the extra digits are cut, not
 * rounded. An offset is honoured; a zone-less time is UTC (Open edX runs with TIME_ZONE = 'UTC', and JS would
 * otherwise read it in the host's zone). null when it is not a datetime.
 */
export function drfInstant(text: string): string | null {
  const m = DRF_DATETIME.exec(text.trim());
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Number((frac ?? '').slice(0, 3).padEnd(3, '0'));
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  // Date.UTC rolls 2025-02-30 over to March: such a text is no date.
  if (new Date(local).getUTCMonth() !== Number(mo) - 1 || new Date(local).getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return null;
  let offsetMin = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
  }
  const date = new Date(local - offsetMin * 60_000);
  return date.toISOString().replace('.000Z', 'Z');
}

/**
 * What a credential is for. A program credential: the program (its uuid as served; programs have no code). A
 * course-run credential: that run, whose key (`course-v1:Org+CODE+2T2025`) is both its id and its code; its
 * title is the course's (discovery gives runs their course's title). Titles the catalog did not know are null.
 */
export function toAchievement(c: Credential, ctx: NormalizeContext): Achievement {
  const runKey = c.credential.course_run_key;
  if (runKey) return { type: 'course_run', external_id: runKey, title: ctx.titles.runs.get(runKey) ?? null, code: runKey };
  const uuid = c.credential.program_uuid ?? '';
  return { type: 'program', external_id: uuid, title: ctx.titles.programs.get(uuid.toLowerCase()) ?? null, code: null };
}

/** The catalog entry for what a credential is for (the engine stores each once per source). */
export function toCatalogAchievement(c: Credential, ctx: NormalizeContext): CatalogAchievement {
  return { ...toAchievement(c, ctx) };
}

/** The credential's PDF link: an absolute http(s) `download_url`, else null (the doc's "www.example.com" is no link). */
export function fileLink(c: Pick<Credential, 'download_url'>): string | null {
  const link = c.download_url;
  if (typeof link !== 'string' || link.trim() === '') return null;
  try {
    const url = new URL(link);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

export function toCertificate(c: Credential, ctx: NormalizeContext): NormalizedCertificate {
  const issuedAt = drfInstant(c.created);
  return {
    // The credential uuid as served (Django prints UUIDs lower-case with dashes). Not `credential_id`: that is
    // the program / run certificate, shared by every awardee.
    external_id: c.uuid,
    // awarded | revoked, as served (the doc's two values; Open edX has no pending state).
    status: c.status,
    subject: {
      // The API knows a learner only by username, kept as spelled.
      provider_user_id: c.username,
      // Where the LMS uses email addresses as usernames, the username IS the email (letter case kept: identity
      // normalizes it); any other username is no email.
      email: c.username.includes('@') ? c.username : null,
      first_name: null,
      last_name: null,
      date_of_birth: null,
    },
    achievement: toAchievement(c, ctx),
    issued_at: issuedAt,
    // Valid from the UTC calendar day it was issued; Open edX credentials have no end date.
    valid_from: issuedAt === null ? null : issuedAt.slice(0, 10),
    valid_until: null,
    // The uuid already identifies it; the API has no serial number.
    serial: null,
    // A PDF only where the credential links one: `download_url` left the serializer in the Teak release (and was
    // null in practice before). `certificate_url` is an HTML page, not a file.
    file: { available: fileLink(c) !== null },
    raw: c,
  };
}
