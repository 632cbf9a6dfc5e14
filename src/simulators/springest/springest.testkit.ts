/** Test helpers for the Springest simulator tests: a small world, a hand-driven clock, requests with a key. */
import type { TruthCertificate } from '../common/truth.ts';
import { generateWorld, type World } from '../common/world.ts';
import { createSpringestSimulator, type SpringestLimits, type SpringestSimulator } from './index.ts';
import type { CertificateJson } from './present.ts';

export const AS_OF = '2026-06-01';
/** The test clock starts the day after asOf, 10:00 UTC. */
export const T0 = Date.parse('2026-06-02T10:00:00Z');

export const testWorld = (seed: string | number = 'springest-test', people = 200): World => generateWorld({ seed, people, asOf: AS_OF });

export interface Harness {
  sp: SpringestSimulator;
  world: World;
  base: string;
  key: string;
  certificationsKey: string;
  now(): number;
  advance(ms: number): void;
  setNow(ms: number): void;
  get(path: string): Promise<Response>;
  /** GET /users/certificates with the certificates key and these extra query parameters. */
  list(query?: string): Promise<CertificateJson[]>;
  post(fields: Record<string, string>, file?: Buffer | string, key?: string): Promise<Response>;
  control(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

export async function startSpringest(opts: { seed?: string; people?: number; country?: string; limits?: Partial<SpringestLimits> } = {}): Promise<Harness> {
  const world = testWorld(opts.seed, opts.people);
  let nowMs = T0;
  const sp = createSpringestSimulator({ world, clock: () => new Date(nowMs), ...(opts.country ? { country: opts.country } : {}), limits: opts.limits ?? { requestsPerHour: 100_000 } });
  const base = await sp.sim.listen(0, '127.0.0.1');
  const get = (path: string): Promise<Response> => fetch(`${base}${path}`);
  return {
    sp,
    world,
    base,
    key: sp.host.apiKey,
    certificationsKey: sp.host.certificationsKey,
    now: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
    setNow: (ms) => {
      nowMs = ms;
    },
    get,
    async list(query = '') {
      const r = await get(`/users/certificates?api_key=${sp.host.apiKey}${query}`);
      if (r.status !== 200) throw new Error(`GET /users/certificates${query}: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { certificates: CertificateJson[] }).certificates;
    },
    post(fields, file, key = sp.host.apiKey) {
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields)) fd.append(k, v);
      if (file !== undefined) fd.append('file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)], { type: 'application/pdf' }), 'certificate.pdf');
      return fetch(`${base}/users/certificates?api_key=${key}`, { method: 'POST', body: fd });
    },
    control: (method, path, body) => fetch(`${base}/__sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) }),
    close: () => sp.sim.close(),
  };
}

/** The connector's mapping, written out again from the brief (not imported from truth.ts). */
export function normalizeServed(c: CertificateJson): Omit<TruthCertificate, 'person_key'> {
  const status = c.status === 'approved' ? 'awarded' : c.status === 'pending' ? 'pending' : 'revoked';
  return {
    external_id: String(c.id),
    status,
    subject: { provider_user_id: c.user.external_id, email: c.user.email, first_name: null, last_name: null, date_of_birth: null },
    achievement: { type: 'certification', external_id: String(c.certification_id), title: c.name, code: null },
    issued_at: new Date(c.created_at).toISOString().replace('.000Z', 'Z'),
    valid_from: c.valid_from,
    valid_until: c.valid_until,
    serial: null,
    file: { available: false },
  };
}
