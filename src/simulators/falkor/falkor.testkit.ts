/** Test helpers for the Falkor simulator: a running instance on port 0, a settable clock, typed calls. */
import type { TruthCertificate } from '../common/truth.ts';
import { generateWorld, type World } from '../common/world.ts';
import { createFalkorSimulator, type FalkorSimulator, type FalkorSimulatorOptions } from './index.ts';
import type { FalkorAccount } from './model.ts';

export interface CertItem {
  firstname: string;
  lastname: string;
  email: string;
  telephone: string;
  country: string;
  city: string;
  certificate: { timestamp: string; state: string; url: string };
}
export interface StoryBlock {
  story: { name: string; type: string; ID: string };
  certificates: CertItem[];
}
export interface FalkorAnswer {
  status: 'success';
  data: StoryBlock[];
  hash: string;
  response_time: number;
}

export const AS_OF = '2026-06-01';
export const testWorld = (seed = 'falkor-test', people = 200): World => generateWorld({ seed, people, asOf: AS_OF });

export interface RunningFalkor {
  fk: FalkorSimulator;
  origin: string;
  /** The simulator's clock; set `clock.ms` to move time. */
  clock: { ms: number };
  account(i?: number): FalkorAccount;
  /** POST the story-certificates endpoint of account `i` (body object or raw string). */
  post(body?: unknown, opts?: { account?: number; token?: string | null; headers?: Record<string, string> }): Promise<Response>;
  /** The parsed 200 answer (throws otherwise). */
  answer(body?: unknown, account?: number): Promise<FalkorAnswer>;
  /** A control call under /__sim; returns status and parsed body. */
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  truth(account?: number): Promise<TruthCertificate[]>;
  close(): Promise<void>;
}

export async function startFalkor(opts: Partial<FalkorSimulatorOptions> = {}): Promise<RunningFalkor> {
  const clock = { ms: Date.parse('2026-06-01T10:00:00Z') };
  const fk = createFalkorSimulator({ world: opts.world ?? testWorld(), clock: () => new Date(clock.ms), ...opts });
  const origin = await fk.sim.listen(0);
  const account = (i = 0): FalkorAccount => {
    const a = fk.accounts[i];
    if (!a) throw new Error(`no account ${i}`);
    return a;
  };
  const post: RunningFalkor['post'] = (body = {}, o = {}) => {
    const a = account(o.account ?? 0);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers };
    if (o.token !== null) headers.authorization ??= `Basic ${o.token ?? a.token}`;
    return fetch(`${origin}${a.basePath}/v1/logs/story-certificates`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  };
  const control: RunningFalkor['control'] = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${origin}/__sim${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as T };
  };
  return {
    fk,
    origin,
    clock,
    account,
    post,
    control,
    async answer(body = {}, i = 0) {
      const res = await post(body, { account: i });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      return (await res.json()) as FalkorAnswer;
    },
    truth: async (i = 0) => (await control<TruthCertificate[]>('GET', `/accounts/${account(i).name}/truth`)).body,
    close: () => fk.sim.close(),
  };
}

export const items = (a: FalkorAnswer): CertItem[] => a.data.flatMap((s) => s.certificates);
export const uidOf = (url: string): string => url.slice(url.lastIndexOf('/') + 1);
