import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from './errors.ts';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** v1: no associated data (before migration 0005). v2: bound to its SecretPlace. */
const LEGACY_VERSION = 'v1';
const TOKEN_VERSION = 'v2';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
export const SECRET_KEY_FILE = 'secret.key';

/** Strict base64 -> bytes, or null when the text is not base64 of exactly 32 bytes. */
function decodeKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!BASE64.test(trimmed) || trimmed.length % 4 !== 0) return null;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === KEY_BYTES ? key : null;
}

/** `text` (an environment variable's value, named `name`) as a key; never echoes the value, which is a key or a typo of one. */
export function decodeSecretKey(text: string, name: string): Buffer {
  const key = decodeKey(text);
  if (key === null) throw new AppError('secret_key_invalid', `${name} must be base64 of exactly 32 bytes`);
  return key;
}

export function generateSecretKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Writes a new key file (0600); refuses to overwrite one. */
export function writeSecretKeyFile(path: string, key: Buffer): void {
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
}

function isErrnoCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

/**
 * The key that encrypts secrets at rest. `base64` is CERTHUB_SECRET_KEY as the caller read it (an empty
 * value counts as absent). Without it, embedded mode (`dataDir` set) keeps a generated key in
 * `<dataDir>/secret.key`; PostgreSQL deployments (`dataDir` null) must set it, since several processes share it.
 */
export function loadSecretKey(opts: { base64: string | undefined; dataDir: string | null; warn?: (line: string) => void }): Buffer {
  if (opts.base64 !== undefined && opts.base64.trim() !== '') {
    return decodeSecretKey(opts.base64, 'CERTHUB_SECRET_KEY');
  }
  if (opts.dataDir === null) {
    throw new AppError(
      'secret_key_invalid',
      'CERTHUB_SECRET_KEY is required when the database is PostgreSQL (generate one with: openssl rand -base64 32)',
    );
  }
  const path = join(opts.dataDir, SECRET_KEY_FILE);
  const key = readOrCreateKeyFile(path, opts.dataDir);
  const loose = looseMode(path);
  if (loose !== null) opts.warn?.(`warning: ${path} can be read by others than its owner (mode ${loose}); make it private: chmod 600 ${path}`);
  return key;
}

/** The file's permission bits as octal text when group or others may read or write it (not on Windows), else null. */
function looseMode(path: string): string | null {
  if (process.platform === 'win32') return null;
  try {
    const mode = statSync(path).mode & 0o777;
    return (mode & 0o077) === 0 ? null : mode.toString(8).padStart(3, '0');
  } catch {
    return null;
  }
}

function readOrCreateKeyFile(path: string, dataDir: string): Buffer {
  const existing = readKeyFile(path);
  if (existing !== null) return existing;
  try {
    // A data directory certhub creates is its own (0700): the key, the database and its PDFs are in it.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // 'wx': never overwrite a key another process generated a moment ago; that one wins below.
    writeSecretKeyFile(path, generateSecretKey());
  } catch (err) {
    if (!isErrnoCode(err, 'EEXIST')) {
      throw new AppError('secret_key_invalid', `cannot create ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  const created = readKeyFile(path);
  if (created === null) throw new AppError('secret_key_invalid', `cannot read ${path}`);
  return created;
}

/** The key in `path`, or null when there is no such file. */
export function readKeyFile(path: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrnoCode(err, 'ENOENT')) return null;
    throw new AppError('secret_key_invalid', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const key = decodeKey(text);
  if (key === null) throw new AppError('secret_key_invalid', `${path} must contain base64 of exactly 32 bytes`);
  return key;
}

/**
 * Where a ciphertext belongs: its `field` (table.column) and the ids of its row (tenant and source, person or
 * certificate). It is the AES-GCM associated data, so a ciphertext copied into another row (another source, person or
 * tenant) fails to decrypt instead of reading as that row's secret.
 */
export interface SecretPlace {
  readonly field: string;
  readonly [id: string]: string;
}

/** The associated data: canonical JSON (sorted keys) of the place, so equal places give equal bytes and no two differ only in punctuation. */
function associatedData(place: SecretPlace): Buffer {
  const sorted = Object.fromEntries(Object.keys(place).sort().map((k) => [k, place[k]]));
  return Buffer.from(`certhub:${JSON.stringify(sorted)}`, 'utf8');
}

function describePlace(place: SecretPlace): string {
  const ids = Object.entries(place).filter(([k]) => k !== 'field').map(([k, v]) => `${k} ${v}`);
  return ids.length === 0 ? place.field : `${place.field} of ${ids.join(', ')}`;
}

export interface SecretBox {
  /** AES-256-GCM with `place` as associated data; token `v2.<iv>.<tag>.<ciphertext>` (base64 parts). Two calls never give the same token. */
  encrypt(plain: string, place: SecretPlace): string;
  /**
   * The plaintext of a v2 token encrypted for exactly this `place`. Throws AppError('secret_key_invalid') for a token
   * of another place (copied from another row), a wrong key, a tampered token or a v1 token; never returns garbage.
   */
  decrypt(token: string, place: SecretPlace): string;
  /** A v1 token (no associated data): only for migration 0005, which re-encrypts them, and the stored key check. */
  decryptLegacy(token: string): string;
  /** True for a token written before associated data (v1). */
  isLegacy(token: string): boolean;
  /** HMAC-SHA256 (hex) under a subkey of the key: equal inputs give equal outputs, for lookups. */
  hmac(value: string): string;
}

function wrongKey(cause?: unknown): AppError {
  return new AppError(
    'secret_key_invalid',
    'cannot decrypt stored secrets: CERTHUB_SECRET_KEY is not the key this data was encrypted with',
    cause === undefined ? undefined : { cause },
  );
}

function notForThisPlace(place: SecretPlace, cause: unknown): AppError {
  // GCM cannot tell a wrong key from wrong associated data; the key was checked when the store opened (migrate.ts).
  return new AppError(
    'secret_key_invalid',
    `cannot decrypt the ${describePlace(place)}: the stored ciphertext was not encrypted for this row (copied from another row?) or not under this CERTHUB_SECRET_KEY`,
    { cause },
  );
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) throw new AppError('secret_key_invalid', 'the secret key must be exactly 32 bytes');
  const encryptionKey = Buffer.from(key);
  const hmacKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'certhub-hmac', KEY_BYTES));

  /** Null when the token is not of `version` or is malformed. */
  const open = (token: string, version: string, aad: Buffer | null): string | null => {
    const parts = token.split('.');
    const [tokenVersion, ivText, tagText, ciphertextText] = parts;
    if (parts.length !== 4 || tokenVersion !== version || ivText === undefined || tagText === undefined) return null;
    const iv = Buffer.from(ivText, 'base64');
    const tag = Buffer.from(tagText, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: TAG_BYTES });
    if (aad !== null) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    // Throws on a wrong key, wrong associated data or a tampered token.
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertextText ?? '', 'base64')), decipher.final()]);
    return plain.toString('utf8');
  };

  return {
    encrypt(plain, place) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
      cipher.setAAD(associatedData(place));
      const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [TOKEN_VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join('.');
    },
    decrypt(token, place) {
      if (token.startsWith(`${LEGACY_VERSION}.`)) {
        throw new AppError(
          'secret_key_invalid',
          `the ${describePlace(place)} is still in the v1 format (no associated data): run certhub migrate to upgrade it`,
        );
      }
      let plain: string | null;
      try {
        plain = open(token, TOKEN_VERSION, associatedData(place));
      } catch (err) {
        throw notForThisPlace(place, err);
      }
      if (plain === null) throw wrongKey();
      return plain;
    },
    decryptLegacy(token) {
      let plain: string | null;
      try {
        plain = open(token, LEGACY_VERSION, null);
      } catch (err) {
        throw wrongKey(err);
      }
      if (plain === null) throw wrongKey();
      return plain;
    },
    isLegacy(token) {
      return token.startsWith(`${LEGACY_VERSION}.`);
    },
    hmac(value) {
      return createHmac('sha256', hmacKey).update(value, 'utf8').digest('hex');
    },
  };
}
