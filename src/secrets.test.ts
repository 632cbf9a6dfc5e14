import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { createSecretBox, loadSecretKey } from './secrets.ts';
import { legacyEncrypt } from './secrets-legacy.testkit.ts';

function expectAppError(fn: () => unknown, code: string, message?: RegExp): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(AppError);
  const err = caught as AppError;
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}

describe('secret box', () => {
  const key = randomBytes(32);
  const place = { field: 'sources.credentials', tenant_id: 't1', source_id: 's1' };

  it('round-trips text, with a fresh IV every time', () => {
    const box = createSecretBox(key);
    const plain = '{"api_key":"s3cr3t","note":"blåbærsyltetøy ✓"}';
    const a = box.encrypt(plain, place);
    const b = box.encrypt(plain, place);
    expect(a).toMatch(/^v2\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cr3t');
    expect(box.decrypt(a, place)).toBe(plain);
    expect(createSecretBox(Buffer.from(key)).decrypt(b, { ...place })).toBe(plain);
    expect(box.decrypt(box.encrypt('', place), place)).toBe('');
  });

  it('refuses to decrypt under a wrong key with a clear error', () => {
    const token = createSecretBox(key).encrypt('hello', place);
    expectAppError(() => createSecretBox(randomBytes(32)).decrypt(token, place), 'secret_key_invalid', /CERTHUB_SECRET_KEY/);
  });

  it('finding 14: a ciphertext decrypts only for the place it was encrypted for', () => {
    const box = createSecretBox(key);
    const token = box.encrypt('{"api_key":"of source s1"}', place);
    for (const other of [
      { ...place, source_id: 's2' },
      { ...place, tenant_id: 't2' },
      { ...place, field: 'people.national_id' },
      { field: 'sources.credentials', tenant_id: 't1' },
      { ...place, extra: 'x' },
    ]) {
      expectAppError(
        () => box.decrypt(token, other),
        'secret_key_invalid',
        /cannot decrypt the .* not encrypted for this row \(copied from another row\?\)/,
      );
    }
    // Key order does not matter; the values do.
    expect(box.decrypt(token, { source_id: 's1', tenant_id: 't1', field: 'sources.credentials' })).toBe('{"api_key":"of source s1"}');
  });

  it('finding 14: v1 tokens (no associated data) are readable only through decryptLegacy', () => {
    const box = createSecretBox(key);
    const v1 = legacyEncrypt(key, 'old secret');
    expect(box.isLegacy(v1)).toBe(true);
    expect(box.decryptLegacy(v1)).toBe('old secret');
    expectAppError(() => box.decrypt(v1, place), 'secret_key_invalid', /v1 format .* run certhub migrate/);
    expectAppError(() => box.decryptLegacy(box.encrypt('new', place)), 'secret_key_invalid');
    expectAppError(() => createSecretBox(randomBytes(32)).decryptLegacy(v1), 'secret_key_invalid', /not the key/);
  });

  it('detects tampering with ciphertext, tag or IV, and malformed tokens', () => {
    const box = createSecretBox(key);
    const token = box.encrypt('pay 100 to alice', place);
    const [v, iv, tag, ct] = token.split('.') as [string, string, string, string];
    const flip = (b64: string): string => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] = (bytes[0] ?? 0) ^ 0x01;
      return bytes.toString('base64');
    };
    for (const bad of [
      [v, iv, tag, flip(ct)].join('.'),
      [v, iv, flip(tag), ct].join('.'),
      [v, flip(iv), tag, ct].join('.'),
      ['v3', iv, tag, ct].join('.'),
      'not a token',
      '',
    ]) {
      expectAppError(() => box.decrypt(bad, place), 'secret_key_invalid');
    }
  });

  it('hmac is deterministic per key and differs between keys', () => {
    const a = createSecretBox(key);
    expect(a.hmac('01019012345')).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hmac('01019012345')).toBe(createSecretBox(Buffer.from(key)).hmac('01019012345'));
    expect(a.hmac('01019012345')).not.toBe(a.hmac('01019012346'));
    expect(a.hmac('01019012345')).not.toBe(createSecretBox(randomBytes(32)).hmac('01019012345'));
  });

  it('rejects keys that are not 32 bytes', () => {
    expectAppError(() => createSecretBox(randomBytes(16)), 'secret_key_invalid');
  });
});

describe('loadSecretKey', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'certhub-secrets-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('finding 13: warns when secret.key can be read by others, and says how to fix it; a private key gets no warning', () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const created = loadSecretKey({ base64: undefined, dataDir: dir, warn: (l) => warnings.push(l) });
    expect(warnings).toEqual([]);
    chmodSync(join(dir, 'secret.key'), 0o644);
    expect(loadSecretKey({ base64: undefined, dataDir: dir, warn: (l) => warnings.push(l) }).equals(created)).toBe(true);
    expect(warnings).toEqual([`warning: ${join(dir, 'secret.key')} can be read by others than its owner (mode 644); make it private: chmod 600 ${join(dir, 'secret.key')}`]);
  });

  it('uses CERTHUB_SECRET_KEY when it is base64 of 32 bytes', () => {
    const key = randomBytes(32);
    expect(loadSecretKey({ base64: key.toString('base64'), dataDir: null }).equals(key)).toBe(true);
    // Surrounding whitespace (a trailing newline from a file or a shell) is tolerated.
    expect(loadSecretKey({ base64: ` ${key.toString('base64')}\n`, dataDir: null }).equals(key)).toBe(true);
  });

  it('refuses bad base64 and wrong lengths without echoing the value', () => {
    for (const bad of [
      randomBytes(16).toString('base64'),
      randomBytes(33).toString('base64'),
      'this is not base64 at all!!',
      `${randomBytes(32).toString('base64')}x`,
    ]) {
      const err = expectAppError(
        () => loadSecretKey({ base64: bad, dataDir: tempDir() }),
        'secret_key_invalid',
        /^CERTHUB_SECRET_KEY must be base64 of exactly 32 bytes$/,
      );
      expect(err.message).not.toContain(bad.trim());
    }
  });

  it('requires the variable when there is no data directory (PostgreSQL)', () => {
    expectAppError(
      () => loadSecretKey({ base64: undefined, dataDir: null }),
      'secret_key_invalid',
      /CERTHUB_SECRET_KEY is required when the database is PostgreSQL/,
    );
  });

  it('generates <dataDir>/secret.key with mode 0600 on first start and reuses it', () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = loadSecretKey({ base64: undefined, dataDir });
    expect(first.length).toBe(32);
    const file = join(dataDir, 'secret.key');
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first)).toBe(true);

    const second = loadSecretKey({ base64: '', dataDir });
    expect(second.equals(first)).toBe(true);
  });

  it('prefers the variable over the file, and refuses a corrupt key file', () => {
    const dataDir = tempDir();
    loadSecretKey({ base64: undefined, dataDir });
    const explicit = randomBytes(32);
    expect(loadSecretKey({ base64: explicit.toString('base64'), dataDir }).equals(explicit)).toBe(true);

    writeFileSync(join(dataDir, 'secret.key'), 'garbage\n');
    expectAppError(() => loadSecretKey({ base64: undefined, dataDir }), 'secret_key_invalid', /secret\.key must contain/);
  });
});
