import { formatPath, isRecord, type ConfigProblem } from './problems.ts';

/** Replaces `${VAR}` / `${VAR:-default}` in one string; `$${` is a literal `${`. */
function interpolateString(
  value: string,
  env: NodeJS.ProcessEnv,
): { value: string; problems: string[] } {
  const problems: string[] = [];
  let out = '';
  let i = 0;
  while (i < value.length) {
    if (value.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!value.startsWith('${', i)) {
      out += value[i] ?? '';
      i += 1;
      continue;
    }
    const end = value.indexOf('}', i + 2);
    if (end < 0) {
      problems.push('has "${" without a closing "}" (write $${ for a literal ${)');
      break;
    }
    const inner = value.slice(i + 2, end);
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(inner);
    if (match === null) {
      problems.push(`"\${${inner}}" is not a valid reference (use \${NAME} or \${NAME:-default})`);
    } else {
      const name = match[1] ?? '';
      const fallback = match[2];
      const fromEnv = env[name];
      if (fromEnv !== undefined && fromEnv !== '') out += fromEnv;
      else if (fallback !== undefined) out += fallback;
      else problems.push(`environment variable ${name} is ${fromEnv === undefined ? 'not set' : 'empty'}`);
    }
    i = end + 1;
  }
  return { value: out, problems };
}

/** Interpolates every string value (not keys) in the parsed YAML; problems carry the path where the value was used. */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: PropertyKey[],
  problems: ConfigProblem[],
): unknown {
  if (typeof value === 'string') {
    const result = interpolateString(value, env);
    for (const message of result.problems) problems.push({ path: formatPath(path), message });
    return result.value;
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, env, [...path, index], problems));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k], problems)]));
  }
  return value;
}

/**
 * `client_id: ${EDX_CLIENT_ID}` inside a flow mapping (as DESIGN.md writes it) is not valid YAML: `{` and `}` are
 * flow indicators. So every `${...}` is swapped for a plain placeholder before parsing and put back afterwards;
 * interpolation then happens on parsed values, where a secret containing `: ` or `#` cannot change the structure.
 */
export function shieldReferences(text: string): { text: string; restore(value: unknown): unknown } {
  const originals: string[] = [];
  let prefix = '__certhub_ref_';
  while (text.includes(prefix)) prefix = `_${prefix}`;
  const placeholder = new RegExp(`${prefix}(\\d+)__`, 'g');
  // Well-formed references only; anything else stays as written and interpolation reports it.
  const shielded = text.replace(/\$?\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}\n"']*)?\}/g, (match) => {
    originals.push(match);
    return `${prefix}${originals.length - 1}__`;
  });
  const restoreText = (value: string): string =>
    value.replace(placeholder, (match, index: string) => originals[Number(index)] ?? match);
  const restore = (value: unknown): unknown => {
    if (typeof value === 'string') return restoreText(value);
    if (Array.isArray(value)) return value.map(restore);
    if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [restoreText(k), restore(v)]));
    return value;
  };
  return { text: shielded, restore };
}
