/**
 * Preloaded into a spawned `certhub` (`node --import <tsx> --import <this file> bin/certhub.js ...`): registers the
 * test provider `warn-badges` in that process, as an extension would, so the real binary can sync a source of it.
 */
import { registerWarningProvider } from './warning-provider.testkit.ts';

registerWarningProvider();
