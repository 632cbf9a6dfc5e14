import type { z } from 'zod';
import { providerIds } from '../providers/registry.ts';
import { AppError } from '../errors.ts';

/** One thing wrong with the configuration, e.g. `{ path: 'sources[2].base_url', message: 'must be an http(s) URL' }`. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.path}: ${problem.message}`;
}

/**
 * AppError('invalid_config') whose `details` lists every problem; `summary` is the message without the list,
 * for callers (the CLI) that print the problems one per line.
 */
export class InvalidConfigError extends AppError {
  readonly summary: string;
  declare readonly details: ConfigProblem[];

  constructor(summary: string, problems: ConfigProblem[]) {
    super('invalid_config', `${summary}: ${problems.map(formatProblem).join('; ')}`, { details: problems });
    this.name = 'InvalidConfigError';
    this.summary = summary;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const EXPECTED: Record<string, string> = { object: 'a mapping', array: 'a list', boolean: 'true or false', number: 'a number' };

export function describeIssue(issue: z.core.$ZodIssue, input: unknown): ConfigProblem[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }));
    case 'invalid_type':
      if (valueAt(input, issue.path) === undefined) return [{ path, message: 'is required' }];
      if (!issue.message.startsWith('Invalid input')) return [{ path, message: issue.message }];
      return [{ path, message: `must be ${EXPECTED[issue.expected] ?? `a ${issue.expected}`}` }];
    case 'invalid_union':
      if (issue.discriminator !== undefined) {
        const missing = valueAt(input, issue.path) === undefined;
        const options = providerIds().join(', ');
        return [{ path, message: missing ? `is required (one of ${options})` : `must be one of ${options}` }];
      }
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** Problems in the order their paths appear in the file (stable otherwise); environment problems last. */
export function inDocumentOrder(problems: ConfigProblem[], document: unknown): ConfigProblem[] {
  const rank = new Map<string, number>();
  const walk = (value: unknown, path: PropertyKey[]): void => {
    rank.set(formatPath(path), rank.size);
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...path, index]));
    else if (isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(document, []);
  const rankOf = (path: string): number => {
    // A missing or unknown key has no rank of its own: use its closest parent's.
    let p = path;
    for (;;) {
      const r = rank.get(p);
      if (r !== undefined) return r;
      const parent = p.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
      if (parent === p || parent === '') break;
      p = parent;
    }
    return path === path.toUpperCase() ? Number.MAX_SAFE_INTEGER : 0;
  };
  return problems
    .map((problem, index) => ({ problem, index, rank: rankOf(problem.path) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((entry) => entry.problem);
}
