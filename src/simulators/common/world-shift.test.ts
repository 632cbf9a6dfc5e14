/**
 * A seeded world is a function of its seed and size: `asOf` only says where "today" is. Moving it shifts
 * every date by the same number of days (and every time with it, give or take the hour of a DST change)
 * and changes nothing else: the same people, accounts, certificates, states and links. Tests that build a
 * world around the real date rely on this to pass on every day of the year.
 */
import { describe, expect, it } from 'vitest';
import { createFalkorSimulator } from '../falkor/index.ts';
import { createFrontcoreSimulator } from '../frontcore/index.ts';
import { createOpenedxSimulator } from '../openedx/index.ts';
import { createSpringestSimulator } from '../springest/index.ts';
import { generateWorld } from './world.ts';

const DAY = 86_400_000;
const MINUTE = 60_000;

interface Shape {
  /** Everything with dates replaced by their distance from asOf (days) and times by a placeholder. */
  structure: unknown;
  /** Every instant, in the same order, as minutes from asOf's midnight (UTC). */
  minutes: number[];
}

/** The world of one asOf, as seen by each simulator's ground truth, made relative to asOf. */
function shapeOf(seed: string, people: number, asOf: string): Shape {
  const world = generateWorld({ seed, people, asOf });
  const base = Date.parse(`${asOf}T00:00:00Z`);
  const year = Number(asOf.slice(0, 4));
  const clock = (): Date => new Date(base + 12 * 3_600_000);
  const minutes: number[] = [];
  const relative = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `day ${(Date.parse(`${value}T00:00:00Z`) - base) / DAY}`;
      if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
        minutes.push((Date.parse(value) - base) / MINUTE);
        return 'instant';
      }
      // Open edX course-run keys name their term by year (`1T2024`): counted from asOf's year.
      return value.replace(/(\d)T(\d{4})/g, (_, term: string, y: string) => `${term}T${Number(y) - year}`);
    }
    if (Array.isArray(value)) return value.map(relative);
    if (value !== null && typeof value === 'object') {
      // A FrontCore serial carries its year of issue (`2024-SAFE-001`); titles of runs, their term.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'serial' ? typeof v : relative(v)]));
    }
    return value;
  };
  const falkor = createFalkorSimulator({ world, clock });
  const structure = relative({
    people: world.people.map((p) => ({ ...p, providers: [...p.providers], nationalId: p.nationalId === null ? null : p.nationalId.length })),
    frontcore: createFrontcoreSimulator({ world, clock }).truth(),
    falkor: falkor.accounts.map((a) => falkor.truthFor(a.name)),
    openedx: createOpenedxSimulator({ world, clock }).truth(),
    springest: createSpringestSimulator({ world, clock }).truth(),
  });
  return { structure, minutes };
}

// Ordinary days, both European DST changes, a leap day, the turn of a year and of the century for birth dates.
const AS_OF = ['2026-06-10', '2026-06-11', '2026-10-25', '2026-12-31', '2027-01-01', '2027-03-28', '2028-02-29', '2031-07-15'];

describe('a seeded world moves with asOf and changes nothing else', () => {
  for (const [seed, people] of [['identity', 150], ['contract', 120]] as const) {
    it(`seed ${seed}, ${people} people: the same people and certificates on every asOf, every date shifted alike`, () => {
      const reference = shapeOf(seed, people, AS_OF[0] as string);
      const counted = JSON.stringify(reference.structure);
      // The comparison means something only if the world has certificates of each provider and dated fields.
      expect(counted.match(/"external_id"/g)?.length ?? 0).toBeGreaterThan(500);
      expect(reference.minutes.length).toBeGreaterThan(500);
      for (const asOf of AS_OF.slice(1)) {
        const shape = shapeOf(seed, people, asOf);
        expect(shape.structure, `asOf ${asOf}`).toEqual(reference.structure);
        expect(shape.minutes.length).toBe(reference.minutes.length);
        const moved = shape.minutes.flatMap((m, i) => (Math.abs(m - (reference.minutes[i] as number)) > 60.001 ? [`#${i}: ${reference.minutes[i]} -> ${m}`] : []));
        expect(moved, `asOf ${asOf}: instants that moved by more than a DST hour`).toEqual([]);
      }
    });
  }
});
