/**
 * A certificate as Springest serves it. The doc lists the fields but its "Example return" is empty;
 * assumed item shape (README): `{id, name, description, certification_id, valid_from, valid_until,
 * status, created_at, user: {email, external_id}}`, `name` / `description` being the certification's.
 */
import { makeCertificatePdf } from '../common/pdf.ts';
import type { World, WorldPerson } from '../common/world.ts';
import { isoSeconds, NO_DAY, STATUSES, type SpringestHost } from './model.ts';

export interface CertificateJson {
  id: number;
  name: string;
  description: string;
  certification_id: number;
  valid_from: string;
  valid_until: string | null;
  status: string;
  created_at: string;
  user: { email: string; external_id: string };
}

export function presentCertificate(host: SpringestHost, row: number): CertificateJson {
  const t = host.certificates;
  const certification = host.certifications[t.certification[row] as number];
  const user = host.users[t.user[row] as number];
  if (!certification || !user) throw new Error(`certificate row ${row} points nowhere`);
  const until = t.validUntil[row] as number;
  return {
    id: t.id[row] as number,
    name: certification.name,
    description: certification.description,
    certification_id: certification.id,
    valid_from: host.dayText(t.validFrom[row] as number),
    valid_until: until === NO_DAY ? null : host.dayText(until),
    status: STATUSES[t.status[row] as number] ?? 'approved',
    created_at: isoSeconds(t.createdAt[row] as number),
    user: { email: user.email, external_id: user.external_id },
  };
}

/**
 * `{"certificates":[...]}` for these rows, written directly as UTF-8 in chunks: byte for byte what
 * JSON.stringify of presentCertificate gives (a test checks), without building a quarter of a
 * million objects or one huge string first for a big host.
 */
export function certificatesBody(host: SpringestHost, rows: Iterable<number>): Buffer {
  const t = host.certificates;
  const heads = host.certifications.map((c) => `,"name":${JSON.stringify(c.name)},"description":${JSON.stringify(c.description)},"certification_id":${c.id},"valid_from":"`);
  const userParts: (string | undefined)[] = new Array<string | undefined>(host.users.length);
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  /** created_at without a Date per row: the memoized day plus the time of day. */
  const createdAt = (ms: number): string => {
    const day = Math.floor(ms / 86_400_000);
    const secs = Math.floor((ms - day * 86_400_000) / 1000);
    return `${host.dayText(day)}T${two(Math.floor(secs / 3600))}:${two(Math.floor(secs / 60) % 60)}:${two(secs % 60)}Z`;
  };
  const chunks: Buffer[] = [Buffer.from('{"certificates":[')];
  let text = '';
  let first = true;
  for (const row of rows) {
    const u = t.user[row] as number;
    let userPart = userParts[u];
    if (userPart === undefined) {
      const user = host.users[u];
      userPart = userParts[u] = `"user":{"email":${JSON.stringify(user?.email)},"external_id":${JSON.stringify(user?.external_id)}}}`;
    }
    const until = t.validUntil[row] as number;
    text += `${first ? '' : ','}{"id":${t.id[row]}${heads[t.certification[row] as number]}${host.dayText(t.validFrom[row] as number)}","valid_until":${until === NO_DAY ? 'null' : `"${host.dayText(until)}"`},"status":"${STATUSES[t.status[row] as number]}","created_at":"${createdAt(t.createdAt[row] as number)}",${userPart}`;
    first = false;
    if (text.length > 65_536) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  chunks.push(Buffer.from(`${text}]}`));
  return Buffer.concat(chunks);
}

/** World person behind a host user, if any. */
export function personOf(world: World, host: SpringestHost, userIndex: number): WorldPerson | undefined {
  const key = host.users[userIndex]?.personKey ?? '';
  return /^p\d+$/.test(key) ? world.people[Number(key.slice(1))] : undefined;
}

/**
 * The certificate's PDF: the very bytes when it was posted through the API, otherwise one generated
 * on demand (real, distinct per certificate: its id, holder and dates are printed on it).
 */
export function certificatePdf(world: World, host: SpringestHost, row: number): Buffer {
  const posted = host.posted.get(row);
  if (posted) return posted.pdf;
  const c = presentCertificate(host, row);
  const person = personOf(world, host, host.certificates.user[row] as number);
  return makeCertificatePdf([
    'Certificate',
    person ? `${person.firstName} ${person.lastName}` : c.user.email.trim(),
    c.name,
    `Valid from ${c.valid_from}${c.valid_until ? ` until ${c.valid_until}` : ''}`,
    `Springest ${host.country.toUpperCase()} certificate ${c.id} (certification ${c.certification_id})`,
  ]);
}
