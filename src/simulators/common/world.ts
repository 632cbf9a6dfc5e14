/**
 * The sandbox world: the people behind every simulator's data, generated from a seed.
 * The same person appears in several providers (with provider-specific spellings of the
 * same email), a few near-duplicates share a name but not a birth date (they must never be
 * merged), and a few people hold a second FrontCore account under a private email (same
 * name and birth date: a *suggested* match). Each provider simulator builds its own records
 * from these people with `rng.fork('<provider>')`, so the providers are independent of each
 * other and the whole world is a pure function of (seed, people, asOf).
 */
import { createRng, type Rng } from './prng.ts';

export interface WorldOptions {
  seed: string | number;
  people: number;
  /** The sandbox's "today" (YYYY-MM-DD): expired / not-yet-valid / expiring-soon are relative to it. */
  asOf: string;
}

export interface WorldPerson {
  /** Stable key of the real person behind the records, e.g. `p000042`. Ground truth for identity tests. */
  key: string;
  index: number;
  firstName: string;
  lastName: string;
  /** Canonical, lower-case work email. Providers may spell it with other letter case. */
  email: string;
  dateOfBirth: string;
  /** Norwegian national identity number (11 digits, valid checksum), for about a third of people. */
  nationalId: string | null;
  phone: string;
  gender: 'Male' | 'Female';
  city: string;
  /** Which providers know this person. */
  providers: ReadonlySet<SimulatedProvider>;
  /** Key of the person this one is a near-duplicate of (same name, different birth date), if any. */
  nearDuplicateOf: string | null;
  /** A second FrontCore account under this private email (same name and birth date), if any. */
  secondFrontcoreEmail: string | null;
}

export interface World {
  options: WorldOptions;
  rng: Rng;
  people: readonly WorldPerson[];
  /** The email as `provider` spells it: same address, sometimes other letter case or stray spaces. */
  emailFor(person: WorldPerson, provider: SimulatedProvider): string;
  byProvider(provider: SimulatedProvider): readonly WorldPerson[];
}

const FIRST_NAMES_F = ['Åse', 'Sølvi', 'Kari', 'Ingrid', 'Marte', 'Siri', 'Bjørg', 'Ragnhild', 'Hege', 'Tone', 'Synnøve', 'Åshild', 'Liv', 'Nora', 'Emma', 'Sofie', 'Maja', 'Ida', 'Astrid', 'Gøril', 'Linnéa', 'Zofia', 'Amina', 'Chloé'];
const FIRST_NAMES_M = ['Øystein', 'Håkon', 'Bjørn', 'Kåre', 'Ola', 'Per', 'Lars', 'Jørgen', 'Sindre', 'Ståle', 'Tor', 'Øyvind', 'Pål', 'Magnus', 'Jonas', 'Henrik', 'Sigurd', 'Ærlend', 'Mats', 'Even', 'Jan-Erik', 'Ali', 'José', 'Mikołaj'];
const LAST_NAMES = ['Ødegård', 'Bråten', 'Sæther', 'Nordmann', 'Haugen', 'Johansen', 'Løken', 'Sørensen', 'Ås', 'Kværnø', 'Dæhlie', 'Bø', 'Strøm', 'Hansen', 'Olsen', 'Berg', 'Lien', 'Dahl', 'Aasen', 'Moen', 'Næss', 'Fjærli', 'Østby', 'Lunde', 'Bakken', 'Solberg', 'Kristiansen', 'Jakobsen', 'Van der Berg', 'Nguyen'];
const CITIES = ['Oslo', 'Bergen', 'Trondheim', 'Stavanger', 'Tromsø', 'Drammen', 'Kristiansand', 'Bodø', 'Ålesund', 'Lillehammer'];
const DOMAINS = ['acme.no', 'nordlys.no', 'fjordkraft-demo.no', 'example.com'];
const PRIVATE_DOMAINS = ['gmail.com', 'online.no', 'hotmail.com'];

/** ASCII local part for an email: æ -> ae, ø -> o, å -> aa, other diacritics dropped. */
export function emailLocalPart(text: string): string {
  return text
    .toLowerCase()
    .replace(/æ/g, 'ae')
    .replace(/ø/g, 'o')
    .replace(/å/g, 'aa')
    .replace(/ł/g, 'l')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.+|\.+$/g, '');
}

/**
 * A Norwegian fødselsnummer for a birth date, with both mod-11 control digits valid. It draws exactly one
 * number from `rng` whatever the date: an individual number whose control digits fail is stepped to the
 * next one, not redrawn, so the rest of the world never depends on which birth dates (and so which
 * `asOf`) the people got.
 */
export function makeNorwegianNationalId(dateOfBirth: string, rng: Rng): string {
  const [y, m, d] = dateOfBirth.split('-');
  const year = Number(y);
  // Individual numbers 000-499 are for births 1900-1999, 500-999 for 2000-2039.
  const low = year < 2000 ? 0 : 500;
  const start = rng.int(0, 499);
  for (let step = 0; step < 500; step++) {
    const individual = low + ((start + step) % 500);
    const base = `${d}${m}${String(y).slice(2)}${String(individual).padStart(3, '0')}`;
    const digits = [...base].map(Number);
    const k1 = 11 - (([3, 7, 6, 1, 8, 9, 4, 5, 2].reduce((s, w, i) => s + w * (digits[i] ?? 0), 0)) % 11);
    const c1 = k1 === 11 ? 0 : k1;
    if (c1 === 10) continue;
    const k2 = 11 - (([5, 4, 3, 2, 7, 6, 5, 4, 3, 2].reduce((s, w, i) => s + w * ([...digits, c1][i] ?? 0), 0)) % 11);
    const c2 = k2 === 11 ? 0 : k2;
    if (c2 === 10) continue;
    return `${base}${c1}${c2}`;
  }
  throw new Error(`no valid national id for ${dateOfBirth}`);
}

/**
 * The default "today" of a sandbox started at `now`: the day before, by UTC date. Every record is then dated before
 * the sandbox starts (FrontCore's up to noon of asOf in Oslo), so no sync ever reads an update from its future.
 */
export function defaultSandboxAsOf(now: Date): string {
  return new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

function randomDateOfBirth(rng: Rng, asOf: string): string {
  // Working age: 19 to 66 years before asOf.
  return addDays(asOf, -rng.int(19 * 365, 66 * 365));
}

function caseVariant(email: string, rng: Rng): string {
  const [local = '', domain = ''] = email.split('@');
  const variant = rng.int(0, 3);
  if (variant === 0) return email.toUpperCase();
  if (variant === 1) return `${local.split('.').map((p) => (p[0] ?? '').toUpperCase() + p.slice(1)).join('.')}@${domain}`;
  if (variant === 2) return ` ${email} `;
  return `${local}@${domain.toUpperCase()}`;
}

/** The platforms the sandbox simulates. */
export const SIMULATED_PROVIDERS = ['frontcore', 'falkor', 'openedx', 'springest'] as const;
export type SimulatedProvider = (typeof SIMULATED_PROVIDERS)[number];

const PROVIDER_SHARE: Record<SimulatedProvider, number> = { frontcore: 0.7, falkor: 0.4, openedx: 0.35, springest: 0.35 };
const PROVIDERS: readonly SimulatedProvider[] = SIMULATED_PROVIDERS;

export function generateWorld(options: WorldOptions): World {
  if (!Number.isInteger(options.people) || options.people < 1) throw new Error('people must be a positive integer');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.asOf)) throw new Error('asOf must be YYYY-MM-DD');
  const rng = createRng(options.seed);
  const peopleRng = rng.fork('people');
  const usedEmails = new Set<string>();
  const people: WorldPerson[] = [];
  let frontcoreSeen = 0;

  const uniqueEmail = (first: string, last: string, domain: string): string => {
    const base = `${emailLocalPart(first)}.${emailLocalPart(last)}`;
    let email = `${base}@${domain}`;
    for (let n = 2; usedEmails.has(email); n++) email = `${base}${n}@${domain}`;
    usedEmails.add(email);
    return email;
  };

  for (let index = 0; index < options.people; index++) {
    const key = `p${String(index).padStart(6, '0')}`;
    const previous = people[index - 1];
    // About 1 in 50 people shares a name with the person before them but not a birth date.
    const nearDuplicate = previous !== undefined && previous.nearDuplicateOf === null && peopleRng.chance(0.02);
    const gender = nearDuplicate ? previous.gender : peopleRng.chance(0.5) ? 'Female' : 'Male';
    const firstName = nearDuplicate ? previous.firstName : peopleRng.pick(gender === 'Female' ? FIRST_NAMES_F : FIRST_NAMES_M);
    const lastName = nearDuplicate ? previous.lastName : peopleRng.pick(LAST_NAMES);
    let dateOfBirth = randomDateOfBirth(peopleRng, options.asOf);
    if (nearDuplicate && dateOfBirth === previous.dateOfBirth) dateOfBirth = addDays(dateOfBirth, 1);
    const providers = new Set<SimulatedProvider>(PROVIDERS.filter((p) => peopleRng.chance(PROVIDER_SHARE[p])));
    if (providers.size === 0) providers.add(peopleRng.pick(PROVIDERS));
    // Near-duplicates are interesting only where both can be seen with a birth date: FrontCore.
    if (nearDuplicate) providers.add('frontcore');
    // Every 40th FrontCore person (from the 4th on) also has a private second account, so that a world of a few
    // people already has one: identity tests need it, and a coin toss would leave some seeds without.
    const hasSecondAccount = !nearDuplicate && providers.has('frontcore') && frontcoreSeen++ % 40 === 3;
    people.push({
      key,
      index,
      firstName,
      lastName,
      email: uniqueEmail(firstName, lastName, peopleRng.pick(DOMAINS)),
      dateOfBirth,
      nationalId: peopleRng.chance(0.33) ? makeNorwegianNationalId(dateOfBirth, peopleRng) : null,
      phone: `+47 ${peopleRng.int(40000000, 99999999)}`,
      gender,
      city: peopleRng.pick(CITIES),
      providers,
      nearDuplicateOf: nearDuplicate ? previous.key : null,
      secondFrontcoreEmail: hasSecondAccount ? uniqueEmail(firstName, lastName, peopleRng.pick(PRIVATE_DOMAINS)) : null,
    });
  }

  // Spelling variants are decided once per (person, provider) so every record of a provider agrees.
  const variants = new Map<string, string>();
  const variantRng = rng.fork('email-variants');
  for (const person of people) {
    for (const provider of PROVIDERS) {
      if (person.providers.has(provider) && variantRng.chance(0.15)) {
        variants.set(`${provider}:${person.key}`, caseVariant(person.email, variantRng));
      }
    }
  }
  const byProvider = new Map<SimulatedProvider, WorldPerson[]>(PROVIDERS.map((p) => [p, people.filter((x) => x.providers.has(p))]));

  return {
    options,
    rng,
    people,
    emailFor: (person, provider) => variants.get(`${provider}:${person.key}`) ?? person.email,
    byProvider: (provider) => byProvider.get(provider) ?? [],
  };
}
