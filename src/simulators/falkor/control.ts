/**
 * Control routes under `/__sim/accounts/...`: look at an account and change it over time (new,
 * delivered, re-dated and removed certificates, new and renamed stories, changed learners). The
 * work is in mutate.ts; errors use Falkor's own shape.
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute, readJsonObject } from '../common/server.ts';
import type { World } from '../common/world.ts';
import { falkorError } from './api.ts';
import type { FalkorAccount } from './model.ts';
import { addCertificate, addStory, changeCertificate, changeLearner, changeStory } from './mutate.ts';
import type { OsloFormat } from './oslo.ts';
import { falkorTruth } from './truth.ts';

type Body = Record<string, unknown>;

const readBody = (req: SimRequest): Body | null => readJsonObject(req);

const isoMs = (ms: number): string => new Date(ms).toISOString();

export function falkorControlRoutes(accounts: readonly FalkorAccount[], deps: { world: World; clock: () => Date; fmt: OsloFormat }): SimRoute[] {
  const { world, clock, fmt } = deps;
  const idRngs = new Map(accounts.map((a) => [a.name, world.rng.fork('falkor').fork(`new-stories/${a.name}`)]));
  const newStoryId = (account: FalkorAccount) => (): string => {
    const rng = idRngs.get(account.name);
    const block = (): string => Array.from({ length: 4 }, () => 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'.charAt(rng?.int(0, 33) ?? 0)).join('');
    return `${block()}-${block()}-${block()}`;
  };
  const now = (): number => clock().getTime();

  /** Runs `fn` with the account of `:account` and the JSON body, or answers 404 / 400. */
  const withAccount = (fn: (account: FalkorAccount, body: Body, req: SimRequest) => SimResponse) => (req: SimRequest): SimResponse => {
    const account = accounts.find((a) => a.name === req.params.account);
    if (!account) return falkorError(404, `unknown account ${req.params.account ?? ''}`);
    const body = readBody(req);
    return body ? fn(account, body, req) : falkorError(400, 'body must be a JSON object');
  };
  /** ... and the live certificate of `:uid`, or 404. */
  const withCertificate = (fn: (account: FalkorAccount, row: number, body: Body, req: SimRequest) => SimResponse) =>
    withAccount((account, body, req) => {
      const row = account.liveRow(req.params.uid ?? '');
      return row < 0 ? falkorError(404, 'unknown certificate') : fn(account, row, body, req);
    });
  const indexParam = (req: SimRequest): number => (/^\d+$/.test(req.params.index ?? '') ? Number(req.params.index) : -1);

  const describeCertificate = (account: FalkorAccount, row: number, origin: string): Body => {
    const v = account.view(row);
    const story = account.stories[v.story];
    return {
      uid: v.uid,
      url: account.permalink(origin, row),
      story: v.story,
      story_ID: story?.id,
      story_name: story?.name,
      learner: v.person,
      person_key: account.people[v.person]?.personKey,
      state: v.state,
      timestamp: fmt.timestamp(v.timestampMs),
      changed_at: isoMs(v.changedAtMs),
    };
  };
  const describeStory = (account: FalkorAccount, index: number): Body => {
    const s = account.stories[index];
    return { index, ID: s?.id, name: s?.name, type: s?.type, app: s ? account.apps[s.app]?.name : undefined };
  };

  return [
    {
      method: 'GET',
      path: '/accounts',
      doc: 'Every account: base_url, token, apps, groups, counts, modified_at (the last change, not served by Falkor).',
      handle: (req) =>
        jsonResponse(
          200,
          accounts.map((a) => ({
            account: a.name,
            base_url: `${req.origin}${a.basePath}`,
            token: a.token,
            apps: a.apps,
            groups: a.groups,
            stories: a.stories.length,
            learners: a.people.length,
            certificates: a.table.length - a.table.removed.subarray(0, a.table.length).reduce((n, r) => n + r, 0),
            modified_at: isoMs(a.modifiedAt),
          })),
        ),
    },
    {
      method: 'GET',
      path: '/accounts/:account/truth',
      doc: 'Ground truth of one account (one certhub source), sorted by external_id.',
      handle: withAccount((a, _b, req) => jsonResponse(200, falkorTruth(a, req.origin, fmt))),
    },
    { method: 'GET', path: '/accounts/:account/stories', doc: "The account's stories: index, ID, name, type, app.", handle: withAccount((a) => jsonResponse(200, a.stories.map((_, i) => describeStory(a, i)))) },
    {
      method: 'POST',
      path: '/accounts/:account/stories',
      doc: 'Add a story: {"name", "type"?: Story|Assessment|Survey|SCORM, "ID"?, "app"?: index|ID|name}. No certificates yet, so not served until one is added.',
      handle: withAccount((a, body) => {
        const index = addStory(a, body, newStoryId(a), now());
        return typeof index === 'string' ? falkorError(400, index) : jsonResponse(201, describeStory(a, index));
      }),
    },
    {
      method: 'PATCH',
      path: '/accounts/:account/stories/:index',
      doc: 'Change a story: {"name"?, "type"?, "ID"?, "app"?}; all its certificates change with it.',
      handle: withAccount((a, body, req) => {
        const index = indexParam(req);
        if (!a.stories[index]) return falkorError(404, 'unknown story');
        const problem = changeStory(a, index, body, now());
        return problem ? falkorError(400, problem) : jsonResponse(200, describeStory(a, index));
      }),
    },
    {
      method: 'GET',
      path: '/accounts/:account/learners',
      doc: "The account's learners: index, person_key, names, email as spelled, groups.",
      handle: withAccount((a) => jsonResponse(200, a.people.map((p, index) => ({ index, person_key: p.personKey, firstname: p.firstname, lastname: p.lastname, email: p.email, telephone: p.telephone, country: p.country, city: p.city, groups: a.groups.filter((_, i) => (p.groups & (1 << i)) !== 0) })))),
    },
    {
      method: 'PATCH',
      path: '/accounts/:account/learners/:index',
      doc: 'Change a learner: {"firstname"?, "lastname"?, "email"?, "telephone"?, "country"?, "city"?, "groups"?: [names]}; all their certificates change.',
      handle: withAccount((a, body, req) => {
        const index = indexParam(req);
        if (!a.people[index]) return falkorError(404, 'unknown learner');
        const problem = changeLearner(a, index, body, now());
        return problem ? falkorError(400, problem) : jsonResponse(200, { index, ...a.people[index] });
      }),
    },
    {
      method: 'POST',
      path: '/accounts/:account/certificates',
      doc: 'Add a certificate: {"person_key" | "person": {firstname, lastname, email, ...}, "story": index|"ID:name"|name, "state"?, "timestamp"?}. Answers {uid, url, ...}.',
      handle: withAccount((a, body, req) => {
        const row = addCertificate(a, world, body, now());
        return typeof row === 'string' ? falkorError(400, row) : jsonResponse(201, describeCertificate(a, row, req.origin));
      }),
    },
    {
      method: 'GET',
      path: '/accounts/:account/certificates/:uid',
      doc: 'One live certificate, with its internal changed_at.',
      handle: withCertificate((a, row, _b, req) => jsonResponse(200, describeCertificate(a, row, req.origin))),
    },
    {
      method: 'PATCH',
      path: '/accounts/:account/certificates/:uid',
      doc: 'Change a certificate: {"state"?: "pending"|"delivered", "timestamp"?: ISO with zone, "story"?: index|"ID:name"|name}.',
      handle: withCertificate((a, row, body, req) => {
        const problem = changeCertificate(a, row, body, now());
        return problem ? falkorError(400, problem) : jsonResponse(200, describeCertificate(a, row, req.origin));
      }),
    },
    {
      method: 'DELETE',
      path: '/accounts/:account/certificates/:uid',
      doc: 'Remove a certificate: gone from answers, its permalink 404 (certhub must mark it deleted).',
      handle: withCertificate((a, row, _b, req) => {
        a.table.removed[row] = 1;
        a.table.changedAt[row] = now();
        a.modifiedAt = now();
        return jsonResponse(200, { uid: a.uidOf(row), url: a.permalink(req.origin, row), removed: true });
      }),
    },
  ];
}
