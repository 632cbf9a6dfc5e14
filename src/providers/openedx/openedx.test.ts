import { afterEach, describe, expect, it } from 'vitest';
import { generateWorld } from '../../simulators/common/world.ts';
import { createOpenedxSimulator, type OpenedxSimulator } from '../../simulators/openedx/index.ts';
import { createProviderHttpClient, type ProviderHttpClient } from '../http/index.ts';
import type { Page } from '../provider.ts';
import { openedxProvider, toCertificate } from './index.ts';
import { openedxConfigSchema, type OpenedxConfig } from './schema.ts';

let sim: OpenedxSimulator | undefined;
let http: ProviderHttpClient;
afterEach(async () => {
  if (sim === undefined) return;
  await http.close();
  await sim.sim.close();
  sim = undefined;
});

async function pullAll(config: OpenedxConfig): Promise<Page[]> {
  const pages: Page[] = [];
  const ctx = { sourceId: 's', config, http, full: false, signal: new AbortController().signal, now: () => new Date() };
  for await (const p of openedxProvider.pull(ctx, null)) pages.push(p);
  return pages;
}

describe('Open edX connector', () => {
  it('fetches a new token after a 401 and finishes the scan', async () => {
    sim = createOpenedxSimulator({ world: generateWorld({ seed: 'oe-token', people: 60, asOf: '2026-06-01' }), throttle: false, defaultPageSize: 20 });
    const url = await sim.sim.listen(0);
    http = createProviderHttpClient({ retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    const config = openedxConfigSchema.parse(sim.sourceConfigs()[0]);
    const counters = sim.sim.counters;
    const first = await pullAll(config);
    // Every token issued so far now answers 401; the next scan must recover by itself.
    await fetch(`${url}/__sim/tokens/expire`, { method: 'POST' });
    const ctx = { sourceId: 's', config, http, full: false, signal: new AbortController().signal, now: () => new Date() };
    const again: Page[] = [];
    for await (const p of openedxProvider.pull(ctx, null)) again.push(p);
    expect(again.flatMap((p) => p.certificates).length).toBe(first.flatMap((p) => p.certificates).length);
    expect(counters.snapshot().requests_by_endpoint['POST /oauth2/access_token']).toBeGreaterThanOrEqual(2);
  });

  it('maps revoked credentials to revoked, and names programs and runs by their catalog titles', async () => {
    sim = createOpenedxSimulator({ world: generateWorld({ seed: 'oe-map', people: 80, asOf: '2026-06-01' }), throttle: false });
    await sim.sim.listen(0);
    http = createProviderHttpClient();
    const certs = (await pullAll(openedxConfigSchema.parse(sim.sourceConfigs()[0]))).flatMap((p) => p.certificates);
    expect(certs.some((c) => c.status === 'revoked')).toBe(true);
    expect(certs.every((c) => c.achievement.title !== null)).toBe(true);
    expect(new Set(certs.map((c) => c.achievement.type))).toEqual(new Set(['program', 'course_run']));
  });

  it('keeps the username as provider user id and uses it as email only when it is one', () => {
    const base = { credential: { program_uuid: 'ABC' }, status: 'awarded' as const, uuid: 'U-1', created: '2024-01-02T03:04:05.678901Z' };
    const titles = { programs: new Map([['abc', 'Data Science']]), runs: new Map() };
    expect(toCertificate({ ...base, username: 'Ola@Acme.no' }, titles)).toMatchObject({ external_id: 'u-1', subject: { provider_user_id: 'Ola@Acme.no', email: 'Ola@Acme.no' }, issued_at: '2024-01-02T03:04:05.678Z', achievement: { type: 'program', external_id: 'abc', title: 'Data Science' } });
    expect(toCertificate({ ...base, username: 'ola_n' }, titles).subject.email).toBeNull();
  });
});
