/**
 * Open edX ground truth: every credential `GET /api/v2/credentials/` lists now, normalized exactly as
 * the Open edX connector must normalize one list item (DESIGN.md "The normalized certificate").
 * A deleted credential is absent: the connector's pull is a full scan, so certhub sweeps it to `deleted`.
 * Each mapping decision is stated next to the field it fills.
 */
import { sortTruth, type TruthCertificate } from '../common/truth.ts';
import { KIND_PROGRAM, STATUSES, type OpenedxData } from './data.ts';

/** ISO-8601 UTC to the second: the API prints `created` with DATETIME_FORMAT "%Y-%m-%dT%H:%M:%SZ", no fraction. */
const isoUtc = (us: number): string => new Date(Math.floor(us / 1_000_000) * 1000).toISOString().replace('.000Z', 'Z');

/** `files`: the items carry a download_url to a file (Sumac with the downloadUrls option); otherwise there is none. */
export function openedxTruth(data: OpenedxData, opts: { files: boolean }): TruthCertificate[] {
  const t = data.credentials;
  const { catalog, users } = data;
  const out: TruthCertificate[] = [];
  for (const row of t.live) {
    const u = t.user[row] as number;
    const username = users.username[u] ?? '';
    const target = t.target[row] as number;
    let achievement: TruthCertificate['achievement'];
    if (t.kind[row] === KIND_PROGRAM) {
      const program = catalog.programs[target];
      // A program credential is for the program: its uuid, its catalog title; programs have no code.
      achievement = { type: 'program', external_id: program?.uuid ?? '', title: program?.title ?? null, code: null };
    } else {
      const run = catalog.runs[target];
      // A course-run credential is for that run: the run key identifies it and is also its code
      // (`course-v1:Org+CODE+2T2025`); the title is the course's title (runs share their course's title).
      achievement = { type: 'course_run', external_id: run?.key ?? '', title: catalog.courses[run?.course ?? 0]?.title ?? null, code: run?.key ?? null };
    }
    const createdUs = t.created[row] as number;
    out.push({
      // The credential `uuid` (canonical lower-case with dashes, as served): unique and stable. The
      // `credential_id` is not: it identifies the program / run certificate shared by all awardees.
      external_id: t.uuid[row] as string,
      // `status` as served: awarded | revoked (Open edX has no pending state).
      status: STATUSES[t.status[row] as number] ?? 'awarded',
      subject: {
        // The `username`, as served.
        provider_user_id: username,
        // The sandbox LMS uses email addresses as usernames: a username with '@' is the learner's
        // email exactly as Open edX spells it (letter case kept, not normalized); otherwise none.
        email: username.includes('@') ? username : null,
        // The Credentials API carries no name or birth date.
        first_name: null,
        last_name: null,
        date_of_birth: null,
      },
      achievement,
      // `created` as served (UTC, whole seconds) as an ISO instant.
      issued_at: isoUtc(createdUs),
      // Valid from the UTC calendar date of `created`; Open edX credentials never expire.
      valid_from: isoUtc(createdUs).slice(0, 10),
      valid_until: null,
      // No serial number: the uuid is already the external_id.
      serial: null,
      // A file only behind a Sumac download_url the simulator fills in; Teak has no download_url, and the
      // certificate_url page is HTML (and exists for few credentials), not a file.
      file: { available: opts.files },
      person_key: users.personKey[u] ?? '',
    });
  }
  return sortTruth(out);
}
