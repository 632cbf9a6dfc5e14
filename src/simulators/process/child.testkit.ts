/**
 * Test support, run as a child process by `startSimulatorProcess`: one provider simulator at its documented limits on
 * a seeded world, on the parent's test clock. It prints one JSON line `{url, sources}` once it listens and stops on
 * SIGTERM. Tests about pacing run the simulator here, so that the time it stamps on each arrival is not held up by
 * the synchronous work (page saves, JSON) of the certhub that is being paced, in the test's own process.
 */
import type { SimulatedProvider } from '../common/world.ts';
import type { SimulatorInstance } from '../common/instance.ts';
import { generateWorld } from '../common/world.ts';
import { createFalkorSimulator } from '../falkor/index.ts';
import { createFrontcoreSimulator } from '../frontcore/index.ts';
import { createOpenedxSimulator } from '../openedx/index.ts';
import { createSpringestSimulator } from '../springest/index.ts';
import { continueTestClock } from '../../test-clock.testkit.ts';

interface ChildOptions {
  provider: SimulatedProvider;
  seed: string;
  people: number;
  asOf: string;
  /** The parent's test clock when it spawned this process; ours runs on from this process's start. */
  clockAtSpawn: string;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const clock = continueTestClock(opts.clockAtSpawn).now;
const world = generateWorld({ seed: opts.seed, people: opts.people, asOf: opts.asOf });
const makers: Record<SimulatedProvider, () => SimulatorInstance> = {
  frontcore: () => createFrontcoreSimulator({ world, clock }),
  falkor: () => createFalkorSimulator({ world, clock }),
  openedx: () => createOpenedxSimulator({ world, clock }),
  springest: () => createSpringestSimulator({ world, clock }),
};
const sim = makers[opts.provider]();
const url = await sim.sim.listen(0, '127.0.0.1');
// Companion hosts (Open edX course-discovery) listen too, so sourceConfigs() names them.
for (const companion of sim.companions ?? []) await companion.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ url, sources: sim.sourceConfigs() })}\n`);
process.once('SIGTERM', () => {
  void Promise.all([sim.sim.close(), ...(sim.companions ?? []).map((c) => c.close())]).then(() => process.exit(0));
});
