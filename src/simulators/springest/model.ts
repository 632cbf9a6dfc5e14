/**
 * Springest's data for one country host: certifications (some unverified, some requiring
 * `valid_until`) and users' certificates with validity dates. Compact: certificates point at
 * people and certifications by index.
 */
import { addDays, type World } from '../common/world.ts';

export interface Certification {
  id: number;
  name: string;
  description: string;
  requires_valid_until: boolean;
  verified: boolean;
}

export interface SpringestUser {
  email: string;
  external_id: string;
  personKey: string;
}

export interface SpringestCertificate {
  id: number;
  certification: number;
  user: number;
  valid_from: string;
  valid_until: string | null;
  status: string;
  createdAtMs: number;
  removed: boolean;
  /** Posted through the API (not generated): kept for the control API's list of posts. */
  posted: { sha256: string; bytes: number; conversion_id: number | null } | null;
}

export interface SpringestHost {
  country: string;
  timeZone: string;
  apiKey: string;
  certificationsKey: string;
  certifications: Certification[];
  users: SpringestUser[];
  certificates: SpringestCertificate[];
  byId: Map<number, number>;
  nextId: number;
}

const CATALOG: [string, string, boolean, number][] = [
  ['ITIL 4 Foundation', 'IT service management foundation', false, 0],
  ['PRINCE2 Foundation', 'Project management method', false, 0],
  ['VCA Basis', 'Safety, health and environment checklist for contractors', true, 10],
  ['BHV (bedrijfshulpverlening)', 'In-company emergency response', true, 1],
  ['Professional Scrum Master I', 'Scrum.org PSM I', false, 0],
  ['Heftruck certificaat', 'Forklift operation', true, 5],
  ['EHBO (first aid)', 'First aid', true, 2],
  ['NEN 3140 Vakbekwaam persoon', 'Electrical safety', true, 3],
  ['Lean Six Sigma Green Belt', 'Process improvement', false, 0],
  ['AVG / GDPR Functionaris', 'Data protection officer', true, 3],
];
/** Certifications not (yet) verified by Springest: their certificates stay invisible to GET. */
const UNVERIFIED = new Set([8, 9]);

export const TIME_ZONES: Record<string, string> = { nl: 'Europe/Amsterdam', de: 'Europe/Berlin', be: 'Europe/Brussels', uk: 'Europe/London' };

export function addSpringestCertificate(host: SpringestHost, c: Omit<SpringestCertificate, 'id' | 'removed'>): SpringestCertificate {
  const cert: SpringestCertificate = { ...c, id: host.nextId++, removed: false };
  host.byId.set(cert.id, host.certificates.push(cert) - 1);
  return cert;
}

export function generateSpringestHost(world: World, country: string): SpringestHost {
  const rng = world.rng.fork(`springest/${country}`);
  const hex = (n: number): string => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  const base = 1000 + rng.int(0, 8) * 1000;
  const host: SpringestHost = {
    country,
    timeZone: TIME_ZONES[country] ?? 'Europe/Amsterdam',
    apiKey: `spr_${country}_${hex(32)}`,
    certificationsKey: `sprc_${country}_${hex(32)}`,
    certifications: CATALOG.map(([name, description, requires], i) => ({ id: base + i + 1, name, description, requires_valid_until: requires, verified: !UNVERIFIED.has(i) })),
    users: [],
    certificates: [],
    byId: new Map(),
    nextId: 500_000 + rng.int(0, 99) * 1000,
  };
  const asOf = world.options.asOf;
  // The default host (nl) has every Springest person; other hosts about half of them.
  const people = world.byProvider('springest').filter(() => country === 'nl' || rng.chance(0.5));
  for (const person of people) {
    const user = host.users.push({ email: world.emailFor(person, 'springest'), external_id: `E${String(10000 + person.index)}`, personKey: person.key }) - 1;
    const count = rng.int(1, 3);
    const seen = new Set<number>();
    for (let k = 0; k < count; k++) {
      const certification = rng.int(0, host.certifications.length - 1);
      if (seen.has(certification)) continue;
      seen.add(certification);
      const years = CATALOG[certification]?.[3] ?? 0;
      const roll = rng.next();
      // A mix relative to asOf: valid, expired, expiring within 60 days, not yet valid.
      let validFrom: string;
      if (roll < 0.1) validFrom = addDays(asOf, rng.int(5, 90)); // not yet valid
      else if (years > 0 && roll < 0.3) validFrom = addDays(addDays(asOf, -years * 365), rng.int(1, 60)); // expiring soon
      else if (years > 0 && roll < 0.5) validFrom = addDays(asOf, -years * 365 - rng.int(30, 700)); // expired
      else validFrom = addDays(asOf, -rng.int(10, years > 0 ? years * 365 - 90 : 1500));
      const createdAtMs = Math.min(Date.parse(`${validFrom}T09:00:00Z`), Date.parse(`${asOf}T09:00:00Z`)) + rng.int(0, 8 * 3600) * 1000;
      addSpringestCertificate(host, {
        certification,
        user,
        valid_from: validFrom,
        valid_until: years > 0 ? addDays(validFrom, years * 365) : null,
        status: 'approved',
        createdAtMs,
        posted: null,
      });
    }
  }
  return host;
}

export function isVisible(host: SpringestHost, cert: SpringestCertificate): boolean {
  return !cert.removed && host.certifications[cert.certification]?.verified === true;
}
