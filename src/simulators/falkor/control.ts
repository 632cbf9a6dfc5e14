/** Control routes under `/__sim/accounts/:account/...`: change an account's certificates over time. */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { World } from '../common/world.ts';
import { falkorError } from './api.ts';
import { addCertificate, STORY_TYPES, type FalkorAccount, type StoryType } from './model.ts';
import { falkorTruth } from './truth.ts';

function readJson(req: SimRequest): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(req.body.toString('utf8') || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

function findStory(account: FalkorAccount, ref: unknown): number {
  if (typeof ref === 'number') return ref >= 0 && ref < account.stories.length ? ref : -1;
  return account.stories.findIndex((s) => `${s.id}:${s.name}` === ref || s.name === ref);
}

function findPerson(account: FalkorAccount, world: World, body: Record<string, unknown>): number | string {
  const key = str(body.person_key);
  if (key) {
    const existing = account.people.findIndex((p) => p.personKey === key);
    if (existing >= 0) return existing;
    const wp = world.people.find((p) => p.key === key);
    if (!wp) return `unknown person_key ${key}`;
    return account.people.push({ firstname: wp.firstName, lastname: wp.lastName, email: world.emailFor(wp, 'falkor'), telephone: wp.phone, country: 'Norway', city: wp.city, groups: [0], personKey: wp.key }) - 1;
  }
  const p = body.person as Record<string, unknown> | undefined;
  const first = str(p?.firstname), last = str(p?.lastname), email = str(p?.email);
  if (!first || !last || !email) return 'give person_key, or person {firstname, lastname, email}';
  const known = account.people.findIndex((x) => x.email.trim().toLowerCase() === email.trim().toLowerCase());
  if (known >= 0) return known;
  return account.people.push({ firstname: first, lastname: last, email, telephone: '', country: 'Norway', city: 'Oslo', groups: [0], personKey: str(p?.key) ?? `new:${email.trim().toLowerCase()}` }) - 1;
}

export function falkorControlRoutes(accounts: FalkorAccount[], world: World, clock: () => Date): SimRoute[] {
  const withAccount = (fn: (account: FalkorAccount, req: SimRequest) => SimResponse) => (req: SimRequest): SimResponse => {
    const account = accounts.find((a) => a.name === req.params.account);
    return account ? fn(account, req) : falkorError(404, `unknown account ${req.params.account ?? ''}`);
  };
  const certOf = (account: FalkorAccount, uid: string | undefined): number => account.byUid.get(uid ?? '') ?? -1;
  return [
    {
      method: 'GET',
      path: '/accounts',
      doc: 'Accounts with their base path and token.',
      handle: (req) => jsonResponse(200, accounts.map((a) => ({ account: a.name, base_url: `${req.origin}/${a.name}/api`, token: a.token }))),
    },
    { method: 'GET', path: '/accounts/:account/truth', doc: "Ground truth of one account (one certhub source).", handle: withAccount((a, req) => jsonResponse(200, falkorTruth(a, req.origin))) },
    {
      method: 'GET',
      path: '/accounts/:account/stories',
      doc: 'The account\'s stories (index, ID, name, type).',
      handle: withAccount((a) => jsonResponse(200, a.stories.map((s, index) => ({ index, ID: s.id, name: s.name, type: s.type })))),
    },
    {
      method: 'POST',
      path: '/accounts/:account/stories',
      doc: 'Add a story: {"name": "...", "type": "Story|Assessment|Survey|SCORM", "ID"?: "..."}.',
      handle: withAccount((a, req) => {
        const body = readJson(req);
        const name = str(body?.name);
        const type = (str(body?.type) ?? 'Story') as StoryType;
        if (!name || !STORY_TYPES.includes(type)) return falkorError(400, 'name required; type one of Story, Assessment, Survey, SCORM');
        const id = str(body?.ID) ?? `NEW${a.stories.length}-STRY-${String(a.stories.length).padStart(4, '0')}`;
        a.stories.push({ id, name, type, app: 0 });
        return jsonResponse(201, { index: a.stories.length - 1, ID: id, name, type });
      }),
    },
    {
      method: 'POST',
      path: '/accounts/:account/certificates',
      doc: 'Add a certificate: {"person_key" | "person": {firstname, lastname, email}, "story": index | "ID:name" | name, "state"?: "pending|delivered"}. Answers {uid, url}.',
      handle: withAccount((a, req) => {
        const body = readJson(req);
        if (!body) return falkorError(400, 'body must be a JSON object');
        const story = findStory(a, body.story);
        if (story < 0) return falkorError(400, 'unknown story');
        const person = findPerson(a, world, body);
        if (typeof person === 'string') return falkorError(400, person);
        const state = body.state === 'pending' ? 'pending' : 'delivered';
        const cert = addCertificate(a, { story, person, state, timestampMs: Math.floor(clock().getTime() / 1000) * 1000 });
        return jsonResponse(201, { uid: cert.uid, url: `${req.origin}/${a.name}/api/certificates/${cert.uid}` });
      }),
    },
    {
      method: 'PATCH',
      path: '/accounts/:account/certificates/:uid',
      doc: 'Change a certificate: {"state"?: "pending|delivered", "timestamp"?: ISO}.',
      handle: withAccount((a, req) => {
        const index = certOf(a, req.params.uid);
        const cert = a.certificates[index];
        const body = readJson(req);
        if (!cert || cert.removed) return falkorError(404, 'unknown certificate');
        if (!body) return falkorError(400, 'body must be a JSON object');
        if (body.state !== undefined) {
          if (body.state !== 'pending' && body.state !== 'delivered') return falkorError(400, 'state must be pending or delivered');
          cert.state = body.state;
        }
        if (body.timestamp !== undefined) {
          const t = typeof body.timestamp === 'string' ? Date.parse(body.timestamp) : NaN;
          if (Number.isNaN(t)) return falkorError(400, 'timestamp must be an ISO date-time');
          cert.timestampMs = Math.floor(t / 1000) * 1000;
        }
        return jsonResponse(200, { uid: cert.uid, state: cert.state });
      }),
    },
    {
      method: 'DELETE',
      path: '/accounts/:account/certificates/:uid',
      doc: 'Remove a certificate: it disappears from responses (certhub must sweep it).',
      handle: withAccount((a, req) => {
        const cert = a.certificates[certOf(a, req.params.uid)];
        if (!cert || cert.removed) return falkorError(404, 'unknown certificate');
        cert.removed = true;
        return jsonResponse(200, { uid: cert.uid, removed: true });
      }),
    },
  ];
}
