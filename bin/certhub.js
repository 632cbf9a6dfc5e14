#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so `npx certhub` works after `npm ci` with no build step.
// The Node version is checked first: the static import below has no dependencies, and tsx (and through the CLI,
// better-sqlite3, which needs Node 22+) are only loaded once the check has passed.
import { unsupportedNodeMessage } from './node-version.js';

const unsupported = unsupportedNodeMessage(process.version);
if (unsupported !== undefined) {
  process.stderr.write(`certhub: ${unsupported}\n`);
  process.exit(2);
}

// tsx 4 refuses `module.register('tsx/esm')` ("must be loaded with --import"); its esm/api register() is the supported way.
const { register } = await import('tsx/esm/api');
register();
// `certhub export | head`: a reader that stops early is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
