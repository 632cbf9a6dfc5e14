/**
 * Springest's data for one country host, a pure function of (world, country): certifications (some
 * requiring `valid_until`, two unverified) and 1-6 certificates per Springest person of the host, with
 * dates relative to `world.options.asOf`: valid (long or no end), expired, not yet valid, expiring
 * within 60 days. Randomness only from `world.rng.fork('springest').fork(country)`.
 */
import type { Rng } from '../common/prng.ts';
import { addDays, type World } from '../common/world.ts';
import { addCertificate, addUser, CertificateTable, createDayText, dayNumber, NO_DAY, type Certification, type SpringestHost } from './model.ts';

/** [name, description, requires_valid_until, validity in years (0 = no end)]. */
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
  ['Certified Ethical Hacker', 'EC-Council CEH', true, 3],
];
/** Certifications Springest has not (yet) verified: their certificates stay invisible to GET. */
const UNVERIFIED = new Set([8, 9]);

/** One host per country domain; `created_from` dates are read in the host's zone. */
export const SPRINGEST_COUNTRIES: Record<string, string> = { nl: 'Europe/Amsterdam', de: 'Europe/Berlin', be: 'Europe/Brussels', uk: 'Europe/London' };

/** Employee number of a world person: the same on every host (the corporate customer's HR number). */
export const employeeNumber = (personIndex: number): string => `E${10000 + personIndex}`;

function secret(rng: Rng, prefix: string): string {
  let hex = '';
  for (let i = 0; i < 4; i++) hex += rng.int(0, 0xffff_ffff).toString(16).padStart(8, '0');
  return `${prefix}${hex}`;
}

/** Validity window of one certificate: a mix relative to asOf. */
function validity(rng: Rng, asOf: string, years: number): { from: string; until: string | null } {
  const roll = rng.next();
  let from: string;
  if (roll < 0.08) from = addDays(asOf, rng.int(3, 120)); // not yet valid
  else if (years > 0 && roll < 0.22) from = addDays(addDays(asOf, -years * 365), rng.int(1, 60)); // expires within 60 days
  else if (years > 0 && roll < 0.45) from = addDays(asOf, -years * 365 - rng.int(1, 900)); // expired
  else from = addDays(asOf, -rng.int(0, years > 0 ? years * 365 - 61 : 2500)); // valid, long or no end
  return { from, until: years > 0 ? addDays(from, years * 365) : null };
}

export function generateSpringestHost(world: World, country: string): SpringestHost {
  const timeZone = SPRINGEST_COUNTRIES[country];
  if (!timeZone) throw new Error(`unknown Springest country ${country}; one of ${Object.keys(SPRINGEST_COUNTRIES).join(', ')}`);
  const rng = world.rng.fork('springest').fork(country);
  const base = 1000 + rng.int(1, 8) * 1000;
  const certifications: Certification[] = CATALOG.map(([name, description, requires, years], i) => ({
    id: base + i + 1,
    name,
    description,
    requires_valid_until: requires,
    verified: !UNVERIFIED.has(i),
    years,
  }));
  const host: SpringestHost = {
    country,
    timeZone,
    apiKey: secret(rng, `spr_${country}_`),
    certificationsKey: secret(rng, `sprc_${country}_`),
    certifications,
    users: [],
    userByEmail: new Map(),
    userByPerson: new Map(),
    certificates: new CertificateTable(),
    posted: new Map(),
    nextId: 500_000 + rng.int(0, 99) * 1000,
    nextEmployeeNo: 1,
    dayText: createDayText(),
  };
  const asOf = world.options.asOf;
  const asOfMs = Date.parse(`${asOf}T00:00:00Z`);
  // The nl host has every Springest person; the other hosts about half of them each.
  const people = world.byProvider('springest').filter(() => country === 'nl' || rng.chance(0.5));
  const order = certifications.map((_, i) => i);
  const rows: { certification: number; user: number; validFrom: number; validUntil: number; createdAt: number }[] = [];
  for (const person of people) {
    const user = addUser(host, { email: world.emailFor(person, 'springest'), external_id: employeeNumber(person.index), personKey: person.key });
    // 1-6 certificates, most people one to three; never twice the same certification.
    const count = 1 + Math.floor(rng.next() ** 2 * 6);
    for (let k = 0; k < count; k++) {
      const j = rng.int(k, order.length - 1);
      const certification = order[j] as number;
      order[j] = order[k] as number;
      order[k] = certification;
      const { from, until } = validity(rng, asOf, certifications[certification]?.years ?? 0);
      // Ingested on the day it became valid (or ahead of it, at the latest the day before asOf), office hours UTC.
      const createdDay = Math.min(Date.parse(`${from}T00:00:00Z`), asOfMs - 86_400_000) - rng.int(0, 3) * 86_400_000;
      rows.push({ certification, user, validFrom: dayNumber(from), validUntil: until === null ? NO_DAY : dayNumber(until), createdAt: createdDay + rng.int(6 * 3600, 17 * 3600) * 1000 });
    }
  }
  // Ids are handed out in creation order, as a database sequence would.
  rows.sort((a, b) => a.createdAt - b.createdAt);
  for (const row of rows) addCertificate(host, row);
  return host;
}
