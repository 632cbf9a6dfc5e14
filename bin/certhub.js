#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so `npx certhub` works after `npm ci` with no build step.
// tsx 4 refuses `module.register('tsx/esm')` ("must be loaded with --import"); its esm/api register() is the supported way.
import { register } from 'tsx/esm/api';

register();
// `certhub export | head`: a reader that stops early is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
