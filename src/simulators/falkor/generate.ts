/**
 * Falkor's accounts, a pure function of (world, account names): per account three apps, eleven
 * stories of the four types (two share an ID, one has no certificates yet), six groups, and the
 * world's Falkor people split over the accounts (about one in ten in two), each with 1-6
 * certificates, about 15% pending. Randomness only from `world.rng.fork('falkor')`; times relative
 * to `world.options.asOf`.
 */
import type { Rng } from '../common/prng.ts';
import { parseZoneless } from '../common/time.ts';
import { addDays, type World, type WorldPerson } from '../common/world.ts';
import { FALKOR_TIME_ZONE } from './oslo.ts';
import { createUidCodec, DELIVERED, FalkorAccount, PENDING, type FalkorApp, type FalkorLearner, type FalkorStory, type StoryType } from './model.ts';

export const DEFAULT_ACCOUNTS = ['acme', 'nordlys'] as const;

/** Stories an account may have: [name, type]. Each account takes 11 of them. */
const STORY_POOL: [string, StoryType][] = [
  ['Onboarding: Welcome to the team', 'Story'],
  ['Information security basics', 'Story'],
  ['GDPR in daily work', 'Assessment'],
  ['Safe lifting technique', 'SCORM'],
  ['Fire drill walkthrough', 'Story'],
  ['Customer service check', 'Assessment'],
  ['Engagement pulse survey', 'Survey'],
  ['Anti-corruption essentials', 'SCORM'],
  ['First aid refresher', 'Assessment'],
  ['Working at heights', 'SCORM'],
  ['Hygiene and food safety (HACCP)', 'Assessment'],
  ['Brannvern: slik slukker du en brann', 'Story'],
  ['HMS-kurs for ledere', 'SCORM'],
  ['Workplace satisfaction 2025', 'Survey'],
  ['Code of conduct', 'Story'],
  ['Phishing awareness', 'Story'],
  ['Kundeundersøkelse Q3', 'Survey'],
  ['Forklift theory', 'Assessment'],
];
const STORIES_PER_ACCOUNT = 11;

const GROUPS: Record<string, string[]> = {
  acme: ['Sales', 'Operations', 'Warehouse', 'Management', 'Support', 'Night shift'],
  nordlys: ['Drift', 'Salg', 'Kundeservice', 'Ledelse', 'Lager', 'Økonomi'],
};
const OTHER_GROUPS = ['Team A', 'Team B', 'Field staff', 'Office', 'Managers', 'Trainees'];

/** Where learners say they are: mostly Norway (the world's city), some neighbours. */
const ABROAD: [string, string[]][] = [
  ['Sweden', ['Stockholm', 'Göteborg', 'Malmö']],
  ['Denmark', ['København', 'Aarhus']],
  ['United Kingdom', ['London', 'Manchester']],
];

const DAY = 86_400_000;
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

/** `EV72-RQZY-80AH`, the doc example's ID format. */
function falkorId(rng: Rng): string {
  let out = '';
  for (let i = 0; i < 12; i++) out += `${i > 0 && i % 4 === 0 ? '-' : ''}${ALPHABET[rng.int(0, ALPHABET.length - 1)]}`;
  return out;
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

const titleCase = (name: string): string => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

/** The account's catalog: every type present, the stories shuffled, one pair sharing an ID (doc example). */
function catalog(name: string, rng: Rng): { apps: FalkorApp[]; stories: FalkorStory[] } {
  const apps = ['Academy', 'Compliance', 'Onboarding'].map((suffix) => ({ id: falkorId(rng), name: `${titleCase(name)} ${suffix}` }));
  const pool = shuffle([...STORY_POOL], rng);
  const picked: [string, StoryType][] = [];
  for (const type of ['Story', 'Assessment', 'Survey', 'SCORM'] as const) {
    const at = pool.findIndex(([, t]) => t === type);
    picked.push(...pool.splice(at, 1));
  }
  picked.push(...pool.slice(0, STORIES_PER_ACCOUNT - picked.length));
  shuffle(picked, rng);
  // The last story gets no certificates (see below): make it one whose type another story has too.
  const draft = picked.findIndex(([, t]) => picked.filter(([, u]) => u === t).length > 1);
  picked.push(...picked.splice(draft, 1));
  const stories = picked.map(([title, type], i) => ({ id: falkorId(rng), name: title, type, app: i % apps.length }));
  // "Story A" and "Story B" of the doc's example have the same ID: two stories here (both with certificates) do too.
  const a = rng.int(0, STORIES_PER_ACCOUNT - 3);
  const b = rng.int(a + 1, STORIES_PER_ACCOUNT - 2);
  (stories[b] as FalkorStory).id = (stories[a] as FalkorStory).id;
  return { apps, stories };
}

function learner(world: World, person: WorldPerson, rng: Rng, groupCount: number): FalkorLearner {
  const roll = rng.next();
  const abroad = roll < 0.85 ? null : ABROAD[Math.floor(((roll - 0.85) / 0.15) * ABROAD.length)];
  let groups = rng.chance(0.05) ? 0 : 1 << rng.int(0, groupCount - 1);
  if (groups !== 0 && rng.chance(0.3)) groups |= 1 << rng.int(0, groupCount - 1);
  return {
    firstname: person.firstName,
    lastname: person.lastName,
    email: world.emailFor(person, 'falkor'),
    telephone: rng.chance(0.3) ? '' : person.phone,
    country: abroad ? abroad[0] : 'Norway',
    city: rng.chance(0.04) ? '' : abroad ? rng.pick(abroad[1]) : person.city,
    groups,
    personKey: person.key,
  };
}

/** The instant of an Oslo wall-clock time: `second` seconds after midnight of `date`. */
function osloWallClock(date: string, second: number): number {
  const hh = String(Math.floor(second / 3600)).padStart(2, '0');
  const mm = String(Math.floor((second % 3600) / 60)).padStart(2, '0');
  const ss = String(second % 60).padStart(2, '0');
  const at = parseZoneless(`${date} ${hh}:${mm}:${ss}`, FALKOR_TIME_ZONE);
  if (at === null) throw new Error(`bad Oslo time ${date} ${second}`);
  return at.getTime();
}

export function generateFalkorAccounts(world: World, names: readonly string[] = DEFAULT_ACCOUNTS): FalkorAccount[] {
  if (names.length === 0 || new Set(names).size !== names.length || names.some((n) => !/^[a-z0-9-]+$/.test(n))) {
    throw new Error('Falkor account names must be distinct, non-empty, [a-z0-9-]');
  }
  const rng = world.rng.fork('falkor');
  const asOfMs = Date.parse(`${world.options.asOf}T00:00:00Z`);
  const accounts = names.map((name) => {
    const tokenRng = rng.fork(`token/${name}`);
    let secret = '';
    for (let i = 0; i < 4; i++) secret += tokenRng.int(0, 0xffff_ffff).toString(16).padStart(8, '0');
    const { apps, stories } = catalog(name, rng.fork(`catalog/${name}`));
    const account = new FalkorAccount(name, Buffer.from(`${name}:${secret}`).toString('base64'), apps, GROUPS[name] ?? OTHER_GROUPS, createUidCodec(rng.fork(`uid/${name}`)), asOfMs);
    account.stories.push(...stories);
    return account;
  });

  // Certificate times are Oslo wall-clock times `daysAgo` days before asOf, so that moving asOf (across a DST
  // change too) shifts every Oslo date and time and changes nothing else.
  const dayStarts = new Map<number, [start: number, next: number]>();
  const osloTime = (daysAgo: number, second: number): number => {
    let day = dayStarts.get(daysAgo);
    if (day === undefined) {
      const date = addDays(world.options.asOf, -daysAgo);
      day = [osloWallClock(date, 0), osloWallClock(addDays(date, 1), 0)];
      dayStarts.set(daysAgo, day);
    }
    // A 24-hour day adds the seconds; the two DST days are read as wall-clock time.
    return day[1] - day[0] === DAY ? day[0] + second * 1000 : osloWallClock(addDays(world.options.asOf, -daysAgo), second);
  };

  const lrng = rng.fork('learners');
  // The last story of each account has no certificates yet: it is left out of every answer.
  const earnable = Array.from({ length: STORIES_PER_ACCOUNT - 1 }, (_, i) => i);
  for (const person of world.byProvider('falkor')) {
    const home = lrng.int(0, accounts.length - 1);
    const homes = [home];
    if (accounts.length > 1 && lrng.chance(0.1)) homes.push((home + lrng.int(1, accounts.length - 1)) % accounts.length);
    for (const index of homes) {
      const account = accounts[index] as FalkorAccount;
      const who = account.addLearner(learner(world, person, lrng, account.groups.length));
      const stories = shuffle([...earnable], lrng).slice(0, lrng.int(1, 6));
      for (const story of stories) {
        const pending = lrng.chance(0.15);
        // Pending certificates are recent (not yet delivered); delivered ones spread over four years.
        const daysAgo = pending ? lrng.int(1, 20) : lrng.int(1, 4 * 365);
        // Mostly working hours, some at any time of day (so the Oslo date is sometimes the next UTC day).
        const second = lrng.chance(0.85) ? lrng.int(5 * 3600, 20 * 3600) : lrng.int(0, 86_399);
        account.addCertificate({ story, learner: who, timestamp: osloTime(daysAgo, second), state: pending ? PENDING : DELIVERED }, asOfMs);
      }
    }
  }
  return accounts;
}
