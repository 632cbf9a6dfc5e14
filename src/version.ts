import { readFileSync } from 'node:fs';

/** certhub's version, from package.json (`certhub --version`, the OpenAPI document). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
