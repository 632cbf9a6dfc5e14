/** One entry per provider: how the contract suite starts its simulator and changes it over time. */
import { createFalkorSimulator } from '../simulators/falkor/index.ts';
import { createFrontcoreSimulator } from '../simulators/frontcore/index.ts';
import { createOpenedxSimulator, type OpenedxSimulatorOptions } from '../simulators/openedx/index.ts';
import { createSpringestSimulator } from '../simulators/springest/index.ts';
import type { ContractCase } from './harness.testkit.ts';
import { parseSource, simJson } from './harness.testkit.ts';

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body) });

export const frontcoreCase: ContractCase = {
  provider: 'frontcore',
  people: 40,
  async start(world, { clock }) {
    const sim = createFrontcoreSimulator({ world, clock, rateLimit: { limit: 100, windowMs: 1000 } });
    const simUrl = await sim.sim.listen(0);
    const entry = sim.sourceConfigs()[0] ?? {};
    return {
      source: parseSource({ ...entry, rate_limit: { requests: 90, per_seconds: 1 } }),
      simUrl,
      truth: () => sim.truth(),
      async mutate() {
        const awarded = sim.truth().filter((t) => t.status === 'awarded');
        const catalog = await simJson<{ id: number }[]>(simUrl, '/catalog');
        await simJson(simUrl, '/diplomas', json('POST', { person_key: world.people[1]?.key, course_id: catalog[0]?.id }));
        await simJson(simUrl, `/diplomas/${awarded[0]?.external_id}`, json('PATCH', { serial: 'CHANGED-001' }));
        // FrontCore deletes by setting deleted_at; the diploma stays listed.
        await simJson(simUrl, `/diplomas/${awarded[1]?.external_id}`, { method: 'DELETE' });
      },
      close: () => sim.sim.close(),
    };
  },
};

export const falkorCase: ContractCase = {
  provider: 'falkor',
  people: 120,
  async start(world, { clock }) {
    const sim = createFalkorSimulator({ world, clock });
    const simUrl = await sim.sim.listen(0);
    const account = sim.accounts[0];
    if (!account) throw new Error('no Falkor account');
    const entry = sim.sourceConfigs().find((s) => s.id === `falkor-${account.name}`) ?? {};
    return {
      source: parseSource(entry),
      simUrl,
      truth: () => sim.truthFor(account.name),
      async mutate() {
        const base = `/accounts/${account.name}/certificates`;
        const pending = account.certificates.find((c) => !c.removed && c.state === 'pending');
        const gone = account.certificates.find((c) => !c.removed && c.state === 'delivered');
        if (!pending || !gone) throw new Error('the seeded account needs a pending and a delivered certificate');
        await simJson(simUrl, `${base}/${pending.uid}`, json('PATCH', { state: 'delivered' }));
        const other = world.people.find((p) => !account.people.some((x) => x.personKey === p.key));
        await simJson(simUrl, base, json('POST', { person_key: other?.key, story: 4, state: 'pending' }));
        await simJson(simUrl, `${base}/${gone.uid}`, { method: 'DELETE' });
      },
      close: () => sim.sim.close(),
    };
  },
};

/** Open edX on a release and options of its simulator (default: Teak, as openedx/credentials serves it today). */
export function openedxCaseWith(options: Partial<Omit<OpenedxSimulatorOptions, 'world' | 'clock'>> = {}): ContractCase {
  return {
    provider: 'openedx',
    people: 80,
    // The pacing test's world of 20 people holds 39 credentials: a token, 2 list pages (20 rows a page), and per page
    // the titles of the programs and course runs it names first, asked of course-discovery (its own host).
    noChangeRequests: 7,
    // At the documented 15 requests a minute (paced at 13.5), its two syncs take about 45 s.
    paced: { people: 20, timeoutMs: 180_000 },
    async start(world, { clock }) {
      const sim = createOpenedxSimulator({ world, clock, throttle: false, ...options });
      const simUrl = await sim.sim.listen(0);
      await sim.discovery.listen(0);
      const entry = sim.sourceConfigs()[0] ?? {};
      return {
        source: parseSource({ ...entry, rate_limit: { requests: 100, per_seconds: 1 } }), // the ceiling certhub.yaml allows
        simUrl,
        truth: () => sim.truth(),
        async mutate() {
          const awarded = sim.truth().filter((t) => t.status === 'awarded');
          const catalog = await simJson<{ programs: { uuid: string }[] }>(simUrl, '/catalog');
          const someone = world.people.find((p) => !sim.truth().some((t) => t.person_key === p.key));
          await simJson(simUrl, '/credentials', json('POST', { person_key: someone?.key, program_uuid: catalog.programs[0]?.uuid }));
          await simJson(simUrl, `/credentials/${awarded[0]?.external_id}`, json('PATCH', { status: 'revoked' }));
          await simJson(simUrl, `/credentials/${awarded[1]?.external_id}`, { method: 'DELETE' });
        },
        close: async () => {
          await sim.sim.close();
          await sim.discovery.close();
        },
      };
    },
  };
}

export const openedxCase: ContractCase = openedxCaseWith();
/** Sumac with download URLs: the release whose credentials may link their PDFs. */
export const openedxSumacCase: ContractCase = openedxCaseWith({ release: 'sumac', downloadUrls: true });

export const springestCase: ContractCase = {
  provider: 'springest',
  people: 120,
  async start(world, { clock }) {
    const sim = createSpringestSimulator({ world, clock });
    const simUrl = await sim.sim.listen(0);
    return {
      source: parseSource(sim.sourceConfigs()[0] ?? {}),
      simUrl,
      truth: () => sim.truth(),
      async mutate() {
        const visible = sim.truth();
        const certification = sim.host.certifications.find((c) => c.verified && !c.requires_valid_until);
        await simJson(simUrl, '/certificates', json('POST', { person_key: world.people[0]?.key, certification_id: certification?.id, valid_from: '2026-05-01', valid_until: null }));
        await simJson(simUrl, `/certificates/${visible[0]?.external_id}`, json('PATCH', { valid_until: '2031-12-31' }));
        await simJson(simUrl, `/certificates/${visible[1]?.external_id}`, { method: 'DELETE' });
      },
      // The GET shows neither changes nor deletions incrementally: certhub reconciles once a day.
      advanceForChangesMs: 25 * 3600_000,
      close: () => sim.sim.close(),
    };
  },
};

export const CONTRACT_CASES: ContractCase[] = [frontcoreCase, falkorCase, openedxCase, springestCase];
