/** Test helpers for the FrontCore simulator tests: a small world, a hand-driven clock, fetch with a key. */
import { parseZoneless } from '../common/time.ts';
import type { TruthCertificate } from '../common/truth.ts';
import { generateWorld } from '../common/world.ts';
import { createFrontcoreSimulator, type FrontcoreSimulator } from './index.ts';

export const AS_OF = '2026-06-01';
/** The test clock starts the day after asOf, 10:00 UTC. */
export const T0 = Date.parse('2026-06-02T10:00:00Z');

export interface Harness {
  fc: FrontcoreSimulator;
  base: string;
  key: string;
  key2: string;
  now(): number;
  advance(ms: number): void;
  get(path: string, key?: string | null): Promise<Response>;
  json<T = unknown>(path: string, key?: string | null): Promise<T>;
  control(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

export async function startFrontcore(opts: { seed?: string | number; people?: number; rateLimit?: { limit: number; windowMs: number } } = {}): Promise<Harness> {
  const world = generateWorld({ seed: opts.seed ?? 'frontcore-test', people: opts.people ?? 200, asOf: AS_OF });
  let nowMs = T0;
  const fc = createFrontcoreSimulator({ world, clock: () => new Date(nowMs), rateLimit: opts.rateLimit ?? { limit: 100_000, windowMs: 1000 } });
  const base = await fc.sim.listen(0, '127.0.0.1');
  const [key, key2] = fc.apiKeys;
  const get = (path: string, k: string | null = key): Promise<Response> => fetch(`${base}${path}`, { headers: k === null ? {} : { 'X-API-Key': k } });
  return {
    fc,
    base,
    key,
    key2,
    now: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
    get,
    json: async <T>(path: string, k?: string | null): Promise<T> => {
      const r = await get(path, k);
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    },
    control: (method, path, body) =>
      fetch(`${base}/__sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) }),
    close: () => fc.sim.close(),
  };
}

/** Shapes of the served JSON, as far as the tests read them. */
export interface DiplomaJson {
  id: number;
  participant_id: number;
  user: { id: number; firstname: string; lastname: string; email: string; date_of_birth: string; national_identification_number: string | null; updated_at: string };
  course: { id: number; title: string; reference: string };
  coursedate: { id: number; start_at: string; end_at: string };
  serial: string | null;
  is_passed: boolean;
  passed_note: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  links: { download: string; stream: string };
}

export interface ParticipantJson {
  id: number;
  user_id: number;
  course_id: number;
  coursedate_id: number;
  coursedate: { id: number; start_at: string; end_at: string };
  customer_id: number | null;
  completed: boolean;
  certificate_issued_at: string | null;
  archived_at: string | null;
  created_at: string;
  updated_at: string;
  attendance?: { date: string; attended: boolean | null }[];
}

export interface DiplomasJson {
  success: 'ok';
  items: DiplomaJson[];
}

/** Every participant, walking pages of 250. */
export async function allParticipants(h: Harness, extra = ''): Promise<ParticipantJson[]> {
  const out: ParticipantJson[] = [];
  for (let page = 1; ; page++) {
    const rows = await h.json<ParticipantJson[]>(`/v2/participants?limit=250&page=${page}${extra}`);
    out.push(...rows);
    if (rows.length < 250) return out;
  }
}

/** The connector's mapping, written out again from the brief (not imported from truth.ts). */
export function normalizeServed(i: DiplomaJson): Omit<TruthCertificate, 'person_key'> {
  const issued = parseZoneless(i.created_at, 'Europe/Oslo');
  return {
    external_id: String(i.id),
    status: i.deleted_at === null ? 'awarded' : 'deleted',
    subject: { provider_user_id: String(i.user.id), email: i.user.email, first_name: i.user.firstname, last_name: i.user.lastname, date_of_birth: i.user.date_of_birth },
    achievement: { type: 'course', external_id: String(i.course.id), title: i.course.title, code: i.course.reference },
    issued_at: issued ? issued.toISOString().replace('.000Z', 'Z') : null,
    valid_from: i.coursedate.end_at.slice(0, 10),
    valid_until: null,
    serial: i.serial,
    file: { available: i.deleted_at === null },
  };
}

/** Every diploma the API serves, found the connector's way: participants with a certificate -> diplomas by user. */
export async function walkApi(h: Harness): Promise<DiplomaJson[]> {
  const participants = await allParticipants(h);
  const users = [...new Set(participants.filter((p) => p.certificate_issued_at !== null).map((p) => p.user_id))];
  const items: DiplomaJson[] = [];
  for (const u of users) items.push(...(await h.json<DiplomasJson>(`/v2/diplomas?user_id=${u}`)).items);
  return items;
}
