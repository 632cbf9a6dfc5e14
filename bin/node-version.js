// @ts-check
// Plain JavaScript with no imports, so bin/certhub.js can run it first, on any Node, before tsx or better-sqlite3 load.

/** The oldest Node.js major certhub runs on; package.json `engines.node` says the same (a test checks). */
export const MIN_NODE_MAJOR = 22;

/**
 * Why this Node.js cannot run certhub, as one line; undefined when it can. Node 22 and 24 are the supported
 * (LTS) lines; later majors are let through, as `engines.node` (>=22) allows.
 * @param {string} version as in `process.version`, e.g. `v20.20.2`
 * @returns {string | undefined}
 */
export function unsupportedNodeMessage(version) {
  const major = Number(/^v?(\d+)\.\d+\.\d+/.exec(version)?.[1]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  return (
    `Node.js 22 or 24 is required (this is ${version || 'an unknown version'}); ` +
    'run it through npm (npm start, npx certhub), which uses the Node 24 that npm install puts in node_modules/.bin, ' +
    'or switch with nvm/fnm (.nvmrc)'
  );
}
