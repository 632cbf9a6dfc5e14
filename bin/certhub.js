#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so `npx certhub` works after `npm ci` with no build step.
import { register } from 'node:module';

register('tsx/esm', import.meta.url);
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
