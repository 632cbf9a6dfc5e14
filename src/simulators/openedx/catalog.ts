/**
 * The Open edX catalog behind the credentials: organizations, courses with their runs, and programs
 * that group courses. Generated once from the world's `openedx` random stream; records are small
 * objects (a few hundred of them), the credentials point at them by index.
 */
import type { Rng } from '../common/prng.ts';

/** Certificate modes a course run can issue (CourseCertificate.certificate_type). */
export const MODES = ['verified', 'professional', 'honor', 'no-id-professional'] as const;
export type Mode = (typeof MODES)[number];

export interface CatalogCourse {
  uuid: string;
  /** `Org+CODE`, the course key without run. */
  key: string;
  code: string;
  title: string;
  /** True: letter grades A-D; false: the course is graded Pass / Fail. */
  letterGrades: boolean;
  runs: number[];
}

export interface CatalogRun {
  uuid: string;
  /** `course-v1:Org+CODE+2T2025` */
  key: string;
  course: number;
  /** Index into MODES: the one certificate type this run issues. */
  mode: number;
  startMs: number;
  endMs: number;
  /** When certificates become visible to learners (learner status hides them until then); null = at once. */
  certificateAvailableMs: number | null;
}

export interface CatalogProgram {
  uuid: string;
  title: string;
  type: string;
  courses: number[];
  /** Every run of every course of the program (the `program_uuid` filter also matches these). */
  runSet: ReadonlySet<number>;
}

export interface Catalog {
  orgs: readonly string[];
  courses: CatalogCourse[];
  runs: CatalogRun[];
  programs: CatalogProgram[];
  runByKey: Map<string, number>;
  runByUuid: Map<string, number>;
  courseByUuid: Map<string, number>;
  programByUuid: Map<string, number>;
}

const ORGS = ['NordlysX', 'AcmeX', 'FjordX', 'TrondheimX'] as const;

/** [code, title, program group]: the group index ties courses into programs below. */
const COURSES: readonly (readonly [string, string, number])[] = [
  ['SAFE101', 'Workplace Safety Fundamentals', 0],
  ['HSE201', 'Health, Safety and Environment Leadership', 0],
  ['FIRE110', 'Fire Prevention and Evacuation', 0],
  ['FA100', 'First Aid at Work', 0],
  ['DATA101', 'Introduction to Data Analysis', 1],
  ['PY101', 'Python for Everyone', 1],
  ['SQL110', 'SQL for Analysts', 1],
  ['ML210', 'Applied Machine Learning', 1],
  ['LEAD110', 'Leading Teams', 2],
  ['COMM120', 'Effective Workplace Communication', 2],
  ['FIN101', 'Finance for Non-Financial Managers', 2],
  ['OFF300', 'Offshore Operations Basics', 3],
  ['MAR150', 'Maritime Navigation Basics', 3],
  ['WELD200', 'Welding Inspection', 3],
  ['ELEC210', 'Electrical Safety (FSE)', 3],
  ['GDPR101', 'Data Protection and GDPR', 4],
  ['CYBER150', 'Cyber Security Awareness', 4],
  ['CLOUD200', 'Cloud Fundamentals', 4],
  ['SUST100', 'Sustainability in Practice', 5],
  ['ENERGY210', 'Renewable Energy Systems', 5],
  ['SUPPLY130', 'Supply Chain Basics', 5],
  ['PM101', 'Project Management Essentials', 6],
  ['PM301', 'Agile Project Delivery', 6],
  ['LEAN200', 'Lean Operations', 6],
  ['ETH100', 'Business Ethics & Compliance', 7],
  ['NOR101', 'Norsk på arbeidsplassen: Grunnkurs', 7],
  ['UX120', 'User Experience Design', 7],
  ['CS110', 'Customer Service Excellence', 7],
];

const PROGRAMS: readonly (readonly [string, string])[] = [
  ['HSE Professional Certificate', 'Professional Certificate'],
  ['Data Analysis MicroMasters®', 'MicroMasters'],
  ['Leadership Essentials XSeries', 'XSeries'],
  ['Offshore & Maritime Operations', 'Professional Certificate'],
  ['Digital Workplace Security', 'XSeries'],
  ['Green Transition Program', 'Professional Certificate'],
  ['Project Management Professional Certificate', 'Professional Certificate'],
  ['Ethics, Language and Service at Work', 'XSeries'],
];

const DAY = 86_400_000;

/**
 * A random version-4 UUID from the seeded stream. Built with join(), which gives one flat string:
 * template concatenation would keep a rope of 13 pieces per uuid (about 400 bytes instead of 56).
 */
export function seededUuid(rng: Rng): string {
  const h = (): string => rng.int(0, 0xffff).toString(16).padStart(4, '0');
  const a = h();
  const b = h();
  const c = h();
  const version = h().slice(1);
  const variant = (8 + rng.int(0, 3)).toString(16) + h().slice(1);
  return [a, b, '-', c, '-4', version, '-', variant, '-', h(), h(), h()].join('');
}

export function generateCatalog(rng: Rng, asOfMs: number): Catalog {
  const asOfYear = new Date(asOfMs).getUTCFullYear();
  const courses: CatalogCourse[] = [];
  const runs: CatalogRun[] = [];
  for (const [code, title] of COURSES) {
    const org = rng.pick(ORGS);
    const course: CatalogCourse = { uuid: seededUuid(rng), key: `${org}+${code}`, code, title, letterGrades: rng.chance(0.4), runs: [] };
    const c = courses.push(course) - 1;
    // One to four runs per course between four years back and next year, one per term at most.
    const terms = new Set<string>();
    const runCount = rng.int(1, 4);
    for (let tries = 0; terms.size < runCount && tries < 20; tries++) terms.add(`${rng.int(1, 3)}T${asOfYear - rng.int(-1, 4)}`);
    for (const term of [...terms].sort((a, b) => a.slice(2).localeCompare(b.slice(2)) || a.localeCompare(b))) {
      const q = Number(term[0]);
      const year = Number(term.slice(2));
      // Laid in days from asOf (about where the term falls), not on the calendar: the world only shifts with asOf.
      const startMs = asOfMs + ((asOfYear - year) * -365 + (q - 1) * 122 + rng.int(0, 20) - 182) * DAY;
      const endMs = startMs + rng.int(60, 110) * DAY;
      // Some organizations delay certificates to the end of the run (+ two weeks), most show them at once.
      const delayed = rng.chance(0.3);
      // A re-run in the same term gets a letter suffix, as `2T2023a` in the doc's example.
      const suffix = rng.chance(0.08) ? 'a' : '';
      const run: CatalogRun = {
        uuid: seededUuid(rng),
        key: `course-v1:${course.key}+${term}${suffix}`,
        course: c,
        mode: pickMode(rng),
        startMs,
        endMs,
        certificateAvailableMs: delayed ? endMs + 14 * DAY : null,
      };
      course.runs.push(runs.push(run) - 1);
    }
  }
  const programs: CatalogProgram[] = PROGRAMS.map(([title, type], group) => {
    const members = COURSES.flatMap(([, , g], i) => (g === group ? [i] : []));
    return { uuid: seededUuid(rng), title, type, courses: members, runSet: new Set(members.flatMap((c) => courses[c]?.runs ?? [])) };
  });
  const index = <T extends { uuid: string }>(items: T[]): Map<string, number> => new Map(items.map((x, i) => [x.uuid, i]));
  return {
    orgs: ORGS,
    courses,
    runs,
    programs,
    runByKey: new Map(runs.map((r, i) => [r.key, i])),
    runByUuid: index(runs),
    courseByUuid: index(courses),
    programByUuid: index(programs),
  };
}

function pickMode(rng: Rng): number {
  const x = rng.next();
  return x < 0.55 ? 0 : x < 0.7 ? 1 : x < 0.9 ? 2 : 3;
}

/** Django's UUIDField accepts upper case and the 32-hex form; anything else matches nothing. */
export function canonicalUuid(text: string): string | null {
  const hex = text.trim().toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  if (text.includes('-') && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text.trim())) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
