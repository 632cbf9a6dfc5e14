/** Test helpers for the Open edX simulator tests: a small world, a hand-driven (pinned) clock, authenticated fetch. */
import { generateWorld } from '../common/world.ts';
import { PERMISSIONS } from './access.ts';
import { createOpenedxSimulator, type OpenedxSimulator, type OpenedxSimulatorOptions } from './index.ts';
import type { CredentialJson } from './present.ts';

export const AS_OF = '2026-06-01';
/** The test clock starts the day after asOf, 10:00:00.250 UTC. */
export const T0 = Date.parse('2026-06-02T10:00:00.250Z');

export interface Page {
  count: number;
  next: string | null;
  previous: string | null;
  results: CredentialJson[];
}

/** A client whose service user holds every credentials.* permission (writes need add / change / delete). */
export const WRITER = { permissions: PERMISSIONS };

export type HarnessOptions = Partial<Omit<OpenedxSimulatorOptions, 'world' | 'clock'>> & {
  seed?: string | number;
  people?: number;
  /** Listen the discovery server too (`discoveryBase`). */
  discovery?: boolean;
};

export interface Harness {
  oe: OpenedxSimulator;
  base: string;
  /** The discovery server's origin ('' unless started with `discovery: true`). */
  discoveryBase: string;
  now(): number;
  advance(ms: number): void;
  /** A fresh JWT for client 0 (or `client`). */
  token(client?: number): Promise<string>;
  /** GET / POST / PATCH with `Authorization: JWT <token>` of client 0 unless `auth` is given (null: none). */
  api(method: string, path: string, body?: unknown, auth?: string | null): Promise<Response>;
  json<T = unknown>(path: string): Promise<T>;
  control(method: string, path: string, body?: unknown): Promise<Response>;
  /** Every page of the list at `path`, following `next`. */
  walk(path?: string): Promise<CredentialJson[]>;
  close(): Promise<void>;
}

/** The simulator over HTTP on a hand-driven clock; the throttle is off unless `throttle` is given. */
export async function startOpenedx(opts: HarnessOptions = {}): Promise<Harness> {
  const { seed, people, discovery, ...simOptions } = opts;
  const world = generateWorld({ seed: seed ?? 'openedx-test', people: people ?? 200, asOf: AS_OF });
  let nowMs = T0;
  const oe = createOpenedxSimulator({ world, clock: () => new Date(nowMs), throttle: false, ...simOptions });
  const base = await oe.sim.listen(0, '127.0.0.1');
  const discoveryBase = discovery ? await oe.discovery.listen(0, '127.0.0.1') : '';
  const tokens = new Map<number, { value: string; at: number }>();
  const token = async (client = 0): Promise<string> => {
    const c = oe.clients[client];
    if (!c) throw new Error(`no client ${client}`);
    const r = await fetch(`${base}/oauth2/access_token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, token_type: 'jwt' }),
    });
    const body = (await r.json()) as { access_token: string };
    return body.access_token;
  };
  const send = (method: string, path: string, header: string | null, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (header !== null) headers.authorization = header;
    if (body !== undefined) headers['content-type'] = 'application/json';
    // redirect: manual, so a test sees APPEND_SLASH's 301 instead of fetch following it.
    return fetch(path.startsWith('http') ? path : `${base}${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body), redirect: 'manual' });
  };
  const api = async (method: string, path: string, body?: unknown, auth?: string | null): Promise<Response> => {
    if (auth !== undefined) return send(method, path, auth, body);
    // A cached token for client 0, renewed when old on the test clock or refused (as a connector re-fetches on 401).
    let t = tokens.get(0);
    if (!t || nowMs - t.at > 600_000) tokens.set(0, (t = { value: await token(0), at: nowMs }));
    const r = await send(method, path, `JWT ${t.value}`, body);
    if (r.status !== 401) return r;
    tokens.set(0, (t = { value: await token(0), at: nowMs }));
    return send(method, path, `JWT ${t.value}`, body);
  };
  const json = async <T>(path: string): Promise<T> => {
    const r = await api('GET', path);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  return {
    oe,
    base,
    discoveryBase,
    now: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
    token,
    api,
    json,
    control: (method, path, body) =>
      fetch(`${base}/__sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) }),
    async walk(path = '/api/v2/credentials/') {
      const out: CredentialJson[] = [];
      for (let next: string | null = path; next !== null; ) {
        const page: Page = await json<Page>(next);
        out.push(...page.results);
        next = page.next;
      }
      return out;
    },
    close: async () => {
      await Promise.all([oe.sim.close(), ...(discovery ? [oe.discovery.close()] : [])]);
    },
  };
}
