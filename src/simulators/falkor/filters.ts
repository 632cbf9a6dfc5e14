/**
 * The request body of `POST v1/logs/story-certificates`: "All parameters are optional and if none are
 * provided all stories, users and groups will be called." Which certificates a set of filters selects,
 * grouped by story in catalog order (certificates in the order they were issued into the account).
 */
import { emailKey, nameKey, type FalkorAccount } from './model.ts';

export interface FalkorFilters {
  /** "String (ID or name of app)". */
  app?: string;
  /** "String (ID or name of stories)". */
  story?: string;
  /** "Array String (name of group)". */
  groups?: string[];
  /** "Array String (name or email)". */
  users?: string[];
}

/**
 * Filters from a raw body, or the message of a 400. The doc is silent on all of this; assumed:
 * an empty body is `{}`; the Content-Type is not looked at (the doc's curl sends JSON with `-d`,
 * i.e. as application/x-www-form-urlencoded); `null` is "not given"; an empty array is "not given";
 * unknown keys are ignored; a value of another type is refused.
 */
export function parseFilters(body: Buffer): FalkorFilters | string {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    return 'Invalid JSON in request body';
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'Request body must be a JSON object';
  const o = input as Record<string, unknown>;
  const out: FalkorFilters = {};
  for (const key of ['app', 'story'] as const) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') return `Parameter '${key}' must be a string (ID or name)`;
    out[key] = v;
  }
  for (const key of ['groups', 'users'] as const) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return `Parameter '${key}' must be an array of strings`;
    if (v.length > 0) out[key] = v as string[];
  }
  return out;
}

/** Certificates of one story, as rows of the account's table. */
export interface StorySelection {
  story: number;
  rows: Int32Array;
}

/**
 * Matching live certificates, per story with at least one ("Stories with no matching certificates are
 * omitted"). Filters combine with AND; within `groups` / `users` any entry may match. Assumed where the
 * doc is silent: app, story and group names match exactly (letter case included), as do IDs; a user
 * matches by email case-insensitively with surrounding spaces ignored, or by "firstname lastname"
 * (letter case and repeated spaces ignored); a value that matches nothing gives `data: []`, not an error.
 */
export function selectCertificates(account: FalkorAccount, filters: FalkorFilters): StorySelection[] {
  const t = account.table;
  const storyOk = account.stories.map((s) => {
    const app = account.apps[s.app];
    if (filters.app !== undefined && app?.id !== filters.app && app?.name !== filters.app) return false;
    return filters.story === undefined || s.id === filters.story || s.name === filters.story;
  });
  let learnerOk: Uint8Array | null = null;
  if (filters.groups || filters.users) {
    learnerOk = new Uint8Array(account.people.length);
    const ok = learnerOk;
    if (filters.users) {
      // Emails through the account's index (an email belongs to one learner); names by a scan.
      const names = new Set<string>();
      for (const u of filters.users) {
        const byEmail = account.learnerByEmail.get(emailKey(u));
        if (byEmail !== undefined) ok[byEmail] = 1;
        if (!u.includes('@')) names.add(nameKey(u, ''));
      }
      if (names.size > 0) {
        account.people.forEach((p, i) => {
          if (names.has(nameKey(p.firstname, p.lastname))) ok[i] = 1;
        });
      }
    } else {
      ok.fill(1);
    }
    if (filters.groups) {
      let groupMask = 0;
      for (const g of filters.groups) {
        const i = account.groups.indexOf(g);
        if (i >= 0) groupMask |= 1 << i;
      }
      account.people.forEach((p, i) => {
        if ((p.groups & groupMask) === 0) ok[i] = 0;
      });
    }
  }
  // Counting sort by story, keeping row order within a story.
  const counts = new Int32Array(account.stories.length);
  const matched = new Uint8Array(t.length);
  for (let row = 0; row < t.length; row++) {
    if (t.removed[row] === 1) continue;
    const story = t.story[row] as number;
    if (!storyOk[story] || (learnerOk !== null && learnerOk[t.learner[row] as number] === 0)) continue;
    matched[row] = 1;
    counts[story] = (counts[story] as number) + 1;
  }
  const out: StorySelection[] = [];
  const fill = new Int32Array(account.stories.length);
  const rowsOf = account.stories.map((_, s) => new Int32Array(counts[s] as number));
  for (let row = 0; row < t.length; row++) {
    if (matched[row] === 0) continue;
    const s = t.story[row] as number;
    (rowsOf[s] as Int32Array)[fill[s] as number] = row;
    fill[s] = (fill[s] as number) + 1;
  }
  rowsOf.forEach((rows, story) => {
    if (rows.length > 0) out.push({ story, rows });
  });
  return out;
}
