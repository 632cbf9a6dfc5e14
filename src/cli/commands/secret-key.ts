import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config/index.ts';
import { AppError, isAppError } from '../../errors.ts';
import { decodeSecretKey, generateSecretKey, loadSecretKey, readKeyFile, SECRET_KEY_FILE, writeSecretKeyFile } from '../../secrets.ts';
import { createStore, type KeyRotationReport } from '../../store/index.ts';
import { loadCliConfig } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';
import { describeDatabase } from './describe.ts';

interface RotateOptions extends GlobalOptions {
  json?: boolean;
}

/** The new key waits here until the database is re-encrypted under it, then replaces secret.key. */
const NEXT_KEY_FILE = `${SECRET_KEY_FILE}.next`;

/** Where the current key lives: CERTHUB_SECRET_KEY, or the generated key file beside the SQLite database. */
type KeyHome = { kind: 'environment' } | { kind: 'file'; path: string; next: string };

function keyHome(config: Config): KeyHome {
  if (config.database === 'sqlite::memory:') {
    throw new AppError('invalid_request', 'an in-memory database has nothing to rotate: nothing outlives the process');
  }
  if (config.secretKey !== undefined || config.dataDir === null) return { kind: 'environment' };
  return { kind: 'file', path: join(config.dataDir, SECRET_KEY_FILE), next: join(config.dataDir, NEXT_KEY_FILE) };
}

function newKeyFor(config: Config, home: KeyHome): Buffer {
  if (config.newSecretKey !== undefined) return decodeSecretKey(config.newSecretKey, 'CERTHUB_NEW_SECRET_KEY');
  if (home.kind === 'file') return generateSecretKey();
  throw new AppError(
    'secret_key_invalid',
    'set CERTHUB_NEW_SECRET_KEY to the new key (generate one with: openssl rand -base64 32); CERTHUB_SECRET_KEY stays the current one until the rotation is done',
  );
}

/** True when the database opens (its key check passes) under `key`. */
async function opensWith(config: Config, key: Buffer): Promise<boolean> {
  try {
    const store = await createStore({ url: config.database, secretKey: key });
    await store.close();
    return true;
  } catch (err) {
    if (isAppError(err) && err.code === 'secret_key_invalid') return false;
    throw err;
  }
}

/**
 * A rotation that stopped between its commit and replacing secret.key leaves secret.key.next behind. Under which key
 * the database is tells which step was last: under the next key, finish by moving it into place (true); under the
 * current one, the rotation never committed, so the leftover is dropped (false).
 */
async function finishInterrupted(config: Config, home: Extract<KeyHome, { kind: 'file' }>): Promise<boolean> {
  const next = readKeyFile(home.next);
  if (next === null) return false;
  if (await opensWith(config, next)) {
    renameSync(home.next, home.path);
    return true;
  }
  rmSync(home.next);
  return false;
}

function summary(report: KeyRotationReport): string {
  const parts = [
    `${report.sources} source credential(s)`,
    `${report.people} person national id(s)`,
    `${report.certificates} certificate(s) with ${report.certificate_versions} version(s)`,
    `${report.identities} identity HMAC(s)`,
    `${report.merges} merge record(s)`,
    `${report.webhook_endpoints} webhook secret(s)`,
  ];
  return parts.join(', ');
}

export function registerSecretKeyCommand(program: Command, rt: CliRuntime): void {
  const secretKey = program.command('secret-key').description('the key that encrypts secrets at rest');
  secretKey
    .command('rotate')
    .description(
      're-encrypt every stored secret and recompute every national-id HMAC under a new key, in one transaction; stop every other certhub process first',
    )
    .option('--json', 'print {"database", "key": "file"|"environment", "rotated": {...counts}, "resumed"}')
    .action(async (_o: RotateOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RotateOptions>();
      const config = loadCliConfig(opts);
      const home = keyHome(config);
      const database = describeDatabase(config);
      if (home.kind === 'file' && existsSync(home.next) && (await finishInterrupted(config, home))) {
        if (opts.json === true) rt.out(JSON.stringify({ database, key: 'file', rotated: null, resumed: true }));
        else rt.out(`${database}: finished an interrupted rotation: ${home.path} now holds the new key`);
        return;
      }
      const current = loadSecretKey({ base64: config.secretKey, dataDir: config.dataDir, warn: (line) => rt.err(line) });
      const next = newKeyFor(config, home);
      if (next.equals(current)) throw new AppError('secret_key_invalid', 'CERTHUB_NEW_SECRET_KEY is the current key: nothing to rotate');

      const store = await createStore({ url: config.database, secretKey: current });
      let report: KeyRotationReport;
      try {
        await store.migrate();
        // Written before the commit, so a crash right after it still has the key the database is under.
        if (home.kind === 'file') writeSecretKeyFile(home.next, next);
        try {
          report = await store.rotateSecretKey(next);
        } catch (err) {
          if (home.kind === 'file') rmSync(home.next, { force: true });
          throw err;
        }
      } finally {
        await store.close();
      }
      if (home.kind === 'file') renameSync(home.next, home.path);

      if (opts.json === true) {
        rt.out(JSON.stringify({ database, key: home.kind, rotated: report, resumed: false }));
        return;
      }
      rt.out(`${database}: re-encrypted under the new key: ${summary(report)}`);
      if (home.kind === 'file') rt.out(`${home.path} now holds the new key; keep a backup of it with the database`);
      else rt.out('now set CERTHUB_SECRET_KEY to the new key (the value of CERTHUB_NEW_SECRET_KEY) for every certhub process, then start them');
    });
}
