/**
 * Falkor's data, per account: apps, stories (one pair shares an `ID`, as in the doc's own example),
 * groups, and story certificates. Compact: certificates point at people and stories by index.
 */
import type { World, WorldPerson } from '../common/world.ts';
import type { Rng } from '../common/prng.ts';

export const STORY_TYPES = ['Story', 'Assessment', 'Survey', 'SCORM'] as const;
export type StoryType = (typeof STORY_TYPES)[number];

export interface FalkorStory {
  id: string;
  name: string;
  type: StoryType;
  app: number;
}

export interface FalkorPerson {
  firstname: string;
  lastname: string;
  email: string;
  telephone: string;
  country: string;
  city: string;
  groups: number[];
  /** World person behind this learner (ground truth for identity tests). */
  personKey: string;
}

export interface FalkorCertificate {
  uid: string;
  story: number;
  person: number;
  timestampMs: number;
  state: 'pending' | 'delivered';
  removed: boolean;
}

export interface FalkorAccount {
  name: string;
  token: string;
  apps: { id: string; name: string }[];
  stories: FalkorStory[];
  groups: string[];
  people: FalkorPerson[];
  certificates: FalkorCertificate[];
  /** uid -> index into certificates */
  byUid: Map<string, number>;
  nextUid: number;
}

export const ACCOUNT_NAMES = ['acme', 'nordlys'] as const;

const STORY_TITLES: [string, StoryType][] = [
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
];
const GROUPS = ['Sales', 'Operations', 'Warehouse', 'Management', 'Support'];

function storyId(rng: Rng): string {
  const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  const block = (): string => Array.from({ length: 4 }, () => rng.pick([...chars])).join('');
  return `${block()}-${block()}-${block()}`;
}

export function uidOf(account: FalkorAccount, n: number): string {
  return `${account.name}-${n.toString(36).padStart(6, '0')}`;
}

function learner(world: World, person: WorldPerson, rng: Rng, groupCount: number): FalkorPerson {
  return {
    firstname: person.firstName,
    lastname: person.lastName,
    email: world.emailFor(person, 'falkor'),
    telephone: rng.chance(0.3) ? '' : person.phone,
    country: 'Norway',
    city: person.city,
    groups: [rng.int(0, groupCount - 1)],
    personKey: person.key,
  };
}

export function generateFalkorAccounts(world: World): FalkorAccount[] {
  const rng = world.rng.fork('falkor');
  const asOfMs = Date.parse(`${world.options.asOf}T12:00:00Z`);
  const accounts: FalkorAccount[] = ACCOUNT_NAMES.map((name) => {
    const tokenRng = rng.fork(`token/${name}`);
    const secret = Array.from({ length: 24 }, () => tokenRng.int(0, 15).toString(16)).join('');
    return {
      name,
      token: Buffer.from(`${name}:${secret}`).toString('base64'),
      apps: [
        { id: `${name.toUpperCase()}-APP-1`, name: `${name[0]?.toUpperCase()}${name.slice(1)} Academy` },
        { id: `${name.toUpperCase()}-APP-2`, name: `${name[0]?.toUpperCase()}${name.slice(1)} Compliance` },
      ],
      stories: [],
      groups: [...GROUPS],
      people: [],
      certificates: [],
      byUid: new Map(),
      nextUid: 1,
    };
  });
  for (const account of accounts) {
    const arng = rng.fork(`stories/${account.name}`);
    for (const [i, [title, type]] of STORY_TITLES.entries()) {
      account.stories.push({ id: storyId(arng), name: title, type, app: i % 2 });
    }
    // The doc's example repeats one story ID for two stories: so do we.
    const [first, second] = account.stories;
    if (first && second) second.id = first.id;
  }
  for (const person of world.byProvider('falkor')) {
    const roll = rng.next();
    const homes = roll < 0.1 ? accounts : [accounts[roll < 0.6 ? 0 : 1] as FalkorAccount];
    for (const account of homes) {
      const personIndex = account.people.push(learner(world, person, rng, account.groups.length)) - 1;
      const count = rng.int(1, 4);
      const taken = new Set<number>();
      for (let k = 0; k < count; k++) {
        const story = rng.int(0, account.stories.length - 1);
        if (taken.has(story)) continue;
        taken.add(story);
        addCertificate(account, {
          story,
          person: personIndex,
          timestampMs: asOfMs - rng.int(0, 3 * 365 * 86_400) * 1000,
          state: rng.chance(0.15) ? 'pending' : 'delivered',
        });
      }
    }
  }
  return accounts;
}

export function addCertificate(account: FalkorAccount, c: Omit<FalkorCertificate, 'uid' | 'removed'>): FalkorCertificate {
  const cert: FalkorCertificate = { ...c, uid: uidOf(account, account.nextUid++), removed: false };
  account.byUid.set(cert.uid, account.certificates.push(cert) - 1);
  return cert;
}
