/**
 * `certhub sandbox`: the four provider simulators on one seeded world, on ports base+1..base+4
 * (FrontCore, Falkor, Open edX, Springest), with the certhub.yaml that points certhub at them.
 */
import { stringify } from 'yaml';
import { AppError } from '../errors.ts';
import type { SimulatedProvider } from './common/world.ts';
import { generateWorld } from './common/world.ts';
import type { SimulatorInstance } from './common/instance.ts';
import { createFrontcoreSimulator } from './frontcore/index.ts';
import { createFalkorSimulator } from './falkor/index.ts';
import { createOpenedxSimulator } from './openedx/index.ts';
import { PERMISSIONS } from './openedx/access.ts';
import { createSpringestSimulator } from './springest/index.ts';

export interface SandboxOptions {
  portBase: number;
  people: number;
  seed: string;
  /** The sandbox's "today" (YYYY-MM-DD); dates in the data are relative to it. */
  asOf: string;
  host?: string;
  /** The simulators' clock (default: the wall clock); tests pin one and give certhub the same. */
  clock?: () => Date;
}

export interface RunningSandbox {
  options: SandboxOptions;
  simulators: { provider: SimulatedProvider; url: string; instance: SimulatorInstance }[];
  /** certhub.yaml `sources:` entries for every simulator, credentials included. */
  sources(): Record<string, unknown>[];
  /** A ready-to-use certhub.yaml for these simulators. */
  configYaml(database?: string): string;
  close(): Promise<void>;
}

export { defaultSandboxAsOf } from './common/world.ts';

export const SANDBOX_PORT_OFFSETS: Record<SimulatedProvider, number> = { frontcore: 1, falkor: 2, openedx: 3, springest: 4 };
/** Companion servers (Open edX course-discovery) listen from base+5 on. */
export const SANDBOX_COMPANION_PORT_OFFSET = 5;

export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const host = options.host ?? '127.0.0.1';
  const world = generateWorld({ seed: options.seed, people: options.people, asOf: options.asOf });
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  const instances: SimulatorInstance[] = [
    createFrontcoreSimulator({ world, ...clock }),
    createFalkorSimulator({ world, ...clock }),
    // The sandbox's Open edX client is a staff user: exempt from the real 15/minute credential throttle, so a demo
    // sync of thousands of credentials is not slowed to a page every 4 seconds. It may also write credentials (the
    // service user an integration that pushes is given), so push rules to Open edX work in the demo.
    createOpenedxSimulator({ world, ...clock, clients: [{ staff: true, permissions: [...PERMISSIONS] }] }),
    createSpringestSimulator({ world, ...clock }),
  ];
  const started: RunningSandbox['simulators'] = [];
  const companions = instances.flatMap((i) => (i.companions ?? []).map((sim) => ({ provider: i.provider, sim })));
  const listening: { close(): Promise<void> }[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(listening.map((s) => s.close()));
  };
  const servers = [
    ...instances.map((instance) => ({ instance, sim: instance.sim, offset: SANDBOX_PORT_OFFSETS[instance.provider] })),
    ...companions.map((c, i) => ({ instance: undefined, sim: c.sim, offset: SANDBOX_COMPANION_PORT_OFFSET + i, provider: c.provider })),
  ];
  for (const server of servers) {
    const port = options.portBase === 0 ? 0 : options.portBase + server.offset;
    try {
      const url = await server.sim.listen(port, host);
      listening.push(server.sim);
      if (server.instance) started.push({ provider: server.instance.provider, url, instance: server.instance });
    } catch (err) {
      await closeAll();
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'EADDRINUSE' ? 'is already in use' : `cannot be opened (${code ?? String(err)})`;
      throw new AppError('invalid_request', `port ${port} for the ${server.sim.name} simulator ${reason}; choose another --port-base`);
    }
  }
  const sources = (): Record<string, unknown>[] => started.flatMap((s) => s.instance.sourceConfigs());
  return {
    options,
    simulators: started,
    sources,
    configYaml: (database = 'sqlite:./data/certhub.db') =>
      `# Written by \`certhub sandbox\` (seed ${options.seed}, ${options.people} people, as of ${options.asOf}).\n` +
      `# The credentials below belong to the local simulators only.\n` +
      // The simulators listen on 127.0.0.1, which certhub's egress policy refuses unless told otherwise.
      stringify({ database, outbound: { allow_private: true }, sources: sources() }),
    close: closeAll,
  };
}
