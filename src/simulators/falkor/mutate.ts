/**
 * Changes to a Falkor account as its admins and learners make them (the control routes' work, kept
 * apart from HTTP). Each change stamps the touched certificates' `changedAt` and the account's
 * `modifiedAt` with the server clock; Falkor serves no such field, but its `hash` changes with the data.
 * Every function answers an error message (string) or its result.
 */
import type { World } from '../common/world.ts';
import { emailKey, STATES, STORY_TYPES, type FalkorAccount, type FalkorLearner, type StoryType } from './model.ts';

type Body = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** Epoch ms (whole seconds) of an ISO date-time with a zone, or undefined. */
export function parseInstant(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(v.trim())) return undefined;
  const t = Date.parse(v.trim());
  return Number.isNaN(t) || t < 0 ? undefined : Math.floor(t / 1000) * 1000;
}

/** Mark rows (or every row of a story / learner) changed now. */
export function touch(account: FalkorAccount, now: number, which: { rows?: number[]; story?: number; learner?: number }): void {
  const t = account.table;
  for (const row of which.rows ?? []) t.changedAt[row] = now;
  if (which.story !== undefined || which.learner !== undefined) {
    for (let row = 0; row < t.length; row++) {
      if (t.story[row] === which.story || t.learner[row] === which.learner) t.changedAt[row] = now;
    }
  }
  account.modifiedAt = now;
}

/** A story by index, `ID:name`, name, or ID when only one story has it; -1 if none. */
export function findStory(account: FalkorAccount, ref: unknown): number {
  const stories = account.stories;
  if (typeof ref === 'number') return Number.isInteger(ref) && ref >= 0 && ref < stories.length ? ref : -1;
  if (typeof ref !== 'string') return -1;
  const exact = stories.findIndex((s) => `${s.id}:${s.name}` === ref || s.name === ref);
  if (exact >= 0) return exact;
  const byId = stories.flatMap((s, i) => (s.id === ref ? [i] : []));
  return byId.length === 1 ? (byId[0] as number) : -1;
}

/** Group names -> bitmask; unknown names become new groups of the account (at most 31). */
function groupMask(account: FalkorAccount, names: unknown): number | string {
  if (!Array.isArray(names) || names.some((g) => typeof g !== 'string' || g.trim() === '')) return 'groups must be an array of group names';
  let mask = 0;
  for (const g of names as string[]) {
    let i = account.groups.indexOf(g);
    if (i < 0) {
      if (account.groups.length >= 31) return 'an account has at most 31 groups here';
      i = account.groups.push(g) - 1;
    }
    mask |= 1 << i;
  }
  return mask;
}

/** The learner for `person_key` (a world person, added to the account if new to it) or `person` {firstname, lastname, email, ...}. */
export function resolveLearner(account: FalkorAccount, world: World, body: Body): number | string {
  const key = text(body.person_key);
  if (key !== undefined) {
    const known = account.learnerByPerson.get(key);
    if (known !== undefined) return known;
    const wp = world.people.find((p) => p.key === key);
    if (!wp) return `unknown person_key ${key}`;
    return account.addLearner({ firstname: wp.firstName, lastname: wp.lastName, email: world.emailFor(wp, 'falkor'), telephone: wp.phone, country: 'Norway', city: wp.city, groups: 1, personKey: wp.key });
  }
  const p = body.person;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'give person_key, or person {firstname, lastname, email}';
  const person = p as Body;
  const firstname = text(person.firstname);
  const lastname = text(person.lastname);
  const email = text(person.email);
  if (!firstname || !lastname || !email) return 'person needs firstname, lastname and email';
  // Falkor knows a learner by email: the same address (any letter case) is the same learner.
  const known = account.learnerByEmail.get(emailKey(email));
  if (known !== undefined) return known;
  const groups = person.groups === undefined ? 1 : groupMask(account, person.groups);
  if (typeof groups === 'string') return groups;
  return account.addLearner({
    firstname,
    lastname,
    email,
    telephone: typeof person.telephone === 'string' ? person.telephone : '',
    country: typeof person.country === 'string' ? person.country : 'Norway',
    city: typeof person.city === 'string' ? person.city : '',
    groups,
    personKey: text(person.key) ?? `new:${emailKey(email)}`,
  });
}

/** Add a certificate: {person_key | person, story, state?, timestamp?}; the row. */
export function addCertificate(account: FalkorAccount, world: World, body: Body, now: number): number | string {
  const story = findStory(account, body.story);
  if (story < 0) return 'unknown story (give its index, "ID:name", name, or an ID no other story has)';
  const state = body.state === undefined ? 0 : STATES.indexOf(body.state as (typeof STATES)[number]);
  if (state < 0) return 'state must be pending or delivered';
  const timestamp = body.timestamp === undefined ? Math.floor(now / 1000) * 1000 : parseInstant(body.timestamp);
  if (timestamp === undefined) return 'timestamp must be an ISO date-time with a zone';
  const learner = resolveLearner(account, world, body);
  if (typeof learner === 'string') return learner;
  return account.addCertificate({ story, learner, timestamp, state }, now);
}

/** Change a certificate: {state?, timestamp?, story?}. */
export function changeCertificate(account: FalkorAccount, row: number, body: Body, now: number): string | null {
  const t = account.table;
  const state = body.state === undefined ? undefined : STATES.indexOf(body.state as (typeof STATES)[number]);
  if (state === -1) return 'state must be pending or delivered';
  const timestamp = body.timestamp === undefined ? undefined : parseInstant(body.timestamp);
  if (body.timestamp !== undefined && timestamp === undefined) return 'timestamp must be an ISO date-time with a zone';
  const story = body.story === undefined ? undefined : findStory(account, body.story);
  if (story === -1) return 'unknown story';
  if (state !== undefined) t.state[row] = state;
  if (timestamp !== undefined) t.timestamp[row] = timestamp;
  if (story !== undefined) t.story[row] = story;
  touch(account, now, { rows: [row] });
  return null;
}

function storyFields(account: FalkorAccount, body: Body, index: number | null): { id?: string; name?: string; type?: StoryType; app?: number } | string {
  const out: { id?: string; name?: string; type?: StoryType; app?: number } = {};
  if (body.name !== undefined) {
    if (!text(body.name)) return 'name must be a non-empty string';
    out.name = body.name as string;
  }
  if (body.ID !== undefined) {
    if (!text(body.ID)) return 'ID must be a non-empty string';
    out.id = body.ID as string;
  }
  if (body.type !== undefined) {
    // Given in any letter case, kept as served (capitalized, see model.ts).
    const type = STORY_TYPES.find((t) => typeof body.type === 'string' && t.toLowerCase() === body.type.toLowerCase());
    if (!type) return 'type must be one of Story, Assessment, Survey, SCORM';
    out.type = type;
  }
  if (body.app !== undefined) {
    const app = account.apps.findIndex((a, i) => body.app === i || a.id === body.app || a.name === body.app);
    if (app < 0) return 'unknown app (index, ID or name)';
    out.app = app;
  }
  const current = index === null ? undefined : account.stories[index];
  const id = out.id ?? current?.id;
  const name = out.name ?? current?.name;
  // ID + name is what tells stories apart (IDs repeat): two stories may not share both.
  if (account.stories.some((s, i) => i !== index && s.id === id && s.name === name)) return 'another story has this ID and name';
  return out;
}

/** Add a story: {name, type?, ID?, app?}; its index. IDs may repeat (doc example), ID + name may not. */
export function addStory(account: FalkorAccount, body: Body, newId: () => string, now: number): number | string {
  if (!text(body.name)) return 'name is required';
  if (account.stories.length >= 65_535) return 'too many stories';
  const fields = storyFields(account, { ID: newId(), type: 'Story', app: 0, ...body }, null);
  if (typeof fields === 'string') return fields;
  account.modifiedAt = now;
  return account.stories.push({ id: fields.id as string, name: fields.name as string, type: fields.type ?? 'Story', app: fields.app ?? 0 }) - 1;
}

/** Change a story: {name?, type?, ID?, app?}; every certificate of it changes with it. */
export function changeStory(account: FalkorAccount, index: number, body: Body, now: number): string | null {
  const story = account.stories[index];
  if (!story) return 'unknown story';
  const fields = storyFields(account, body, index);
  if (typeof fields === 'string') return fields;
  Object.assign(story, fields);
  touch(account, now, { story: index });
  return null;
}

/** Change a learner: {firstname?, lastname?, email?, telephone?, country?, city?, groups?}. */
export function changeLearner(account: FalkorAccount, index: number, body: Body, now: number): string | null {
  const learner = account.people[index];
  if (!learner) return 'unknown learner';
  const next: FalkorLearner = { ...learner };
  for (const key of ['firstname', 'lastname', 'email'] as const) {
    if (body[key] === undefined) continue;
    if (!text(body[key])) return `${key} must be a non-empty string`;
    next[key] = body[key] as string;
  }
  for (const key of ['telephone', 'country', 'city'] as const) {
    if (body[key] === undefined) continue;
    if (typeof body[key] !== 'string') return `${key} must be a string`;
    next[key] = body[key];
  }
  if (body.groups !== undefined) {
    const mask = groupMask(account, body.groups);
    if (typeof mask === 'string') return mask;
    next.groups = mask;
  }
  const clash = account.learnerByEmail.get(emailKey(next.email));
  if (clash !== undefined && clash !== index) return 'another learner has this email';
  if (account.learnerByEmail.get(emailKey(learner.email)) === index) account.learnerByEmail.delete(emailKey(learner.email));
  account.learnerByEmail.set(emailKey(next.email), index);
  Object.assign(learner, next);
  touch(account, now, { learner: index });
  return null;
}
