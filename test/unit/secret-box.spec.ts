import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretBox, legacyPassphraseKey, loadSecretKey } from '../../src/relays/secret-box.js';

/** Re-encodes one base64url part of a sealed value after changing its bytes. */
function alterPart(sealed: string, index: number, change: (bytes: Buffer) => Buffer): string {
  const parts = sealed.split('.');
  parts[index] = change(Buffer.from(parts[index]!, 'base64url')).toString('base64url');
  return parts.join('.');
}

describe(SecretBox.name, () => {
  const key = randomBytes(32);

  it('refuses a key that is not 32 bytes long', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('SecretBox needs a 32-byte key');
    expect(() => new SecretBox(randomBytes(33))).toThrow('SecretBox needs a 32-byte key');
  });

  it('opens what it sealed, for ASCII, Unicode and empty secrets', () => {
    const box = new SecretBox(key);
    for (const secret of ['hunter2', 'pässwörd 🔑 with.dots.and:colons', '']) {
      expect(box.open(box.seal(secret))).toBe(secret);
    }
  });

  it('produces "v1.<iv>.<tag>.<ciphertext>" with a 12-byte IV and a 16-byte tag, without the plaintext', () => {
    const sealed = new SecretBox(key).seal('hunter2');
    const [version, iv, tag, data, ...rest] = sealed.split('.');
    expect(version).toBe('v1');
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(data!, 'base64url')).toHaveLength(7);
    expect(rest).toEqual([]);
    expect(sealed).not.toContain('hunter2');
  });

  it('gives a different sealed value each time for the same secret because the IV is random', () => {
    const box = new SecretBox(key);
    const a = box.seal('same secret');
    const b = box.seal('same secret');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
    expect(box.open(a)).toBe('same secret');
    expect(box.open(b)).toBe('same secret');
  });

  it('rejects a sealed value whose ciphertext was changed', () => {
    const box = new SecretBox(key);
    const tampered = alterPart(box.seal('hunter2'), 3, (b) => {
      b[0] = b[0]! ^ 0x01;
      return b;
    });
    expect(() => box.open(tampered)).toThrow();
  });

  it('rejects a sealed value whose tag or IV was changed', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('hunter2');
    const flip = (b: Buffer) => {
      b[b.length - 1] = b[b.length - 1]! ^ 0x80;
      return b;
    };
    expect(() => box.open(alterPart(sealed, 2, flip))).toThrow();
    expect(() => box.open(alterPart(sealed, 1, flip))).toThrow();
  });

  it('rejects a sealed value whose tag was truncated', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('hunter2');
    expect(() => box.open(alterPart(sealed, 2, (b) => b.subarray(0, 4)))).toThrow();
    expect(() => box.open(alterPart(sealed, 2, (b) => b.subarray(0, 12)))).toThrow();
  });

  it('rejects a value sealed with another key', () => {
    const sealed = new SecretBox(randomBytes(32)).seal('hunter2');
    expect(() => new SecretBox(key).open(sealed)).toThrow();
  });

  it('derives a stable 64-hex-character key per label that differs between labels and between keys', () => {
    const box = new SecretBox(key);
    const session = box.derive('session');
    expect(session).toMatch(/^[0-9a-f]{64}$/);
    expect(box.derive('session')).toBe(session);
    expect(new SecretBox(Buffer.from(key)).derive('session')).toBe(session);
    expect(box.derive('csrf')).not.toBe(session);
    expect(new SecretBox(randomBytes(32)).derive('session')).not.toBe(session);
    expect(session).not.toBe(key.toString('hex'));
  });

  it('tells values sealed with its key, with its legacy key and with neither apart, without throwing', () => {
    const legacy = randomBytes(32);
    const box = new SecretBox(key, legacy);
    const old = new SecretBox(legacy).seal('sealed by an older version');
    expect(box.check(box.seal('x'))).toBe('current');
    expect(box.check(old)).toBe('legacy');
    expect(box.check(new SecretBox(randomBytes(32)).seal('x'))).toBe('unreadable');
    expect(box.check('not sealed')).toBe('unreadable');
    expect(box.tryOpen(new SecretBox(randomBytes(32)).seal('x'))).toBeUndefined();
  });

  it('opens a value sealed with its legacy key, but seals and derives only with the new one', () => {
    const legacy = randomBytes(32);
    const box = new SecretBox(key, legacy);
    expect(box.open(new SecretBox(legacy).seal('kept across the upgrade'))).toBe('kept across the upgrade');
    expect(() => new SecretBox(legacy).open(box.seal('x'))).toThrow();
    expect(box.derive('session-cookie')).toBe(new SecretBox(key).derive('session-cookie'));
  });

  it('rejects strings that are not sealed secrets', () => {
    const box = new SecretBox(key);
    const [, iv, tag, data] = box.seal('x').split('.');
    for (const bad of ['hunter2', '', 'v1', 'v1..', `v2.${iv}.${tag}.${data}`, `v1.${iv}`, `v1..${tag}.${data}`, `v1.${iv}..${data}`]) {
      expect(() => box.open(bad)).toThrow('not a sealed secret');
    }
  });
});

describe('loadSecretKey', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'postroom-secret-box-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uses a 64-hex-character SECRET_KEY as the key bytes, in either case', async () => {
    const hex = randomBytes(32).toString('hex');
    expect(await loadSecretKey(hex, dir)).toEqual(Buffer.from(hex, 'hex'));
    expect(await loadSecretKey(hex.toUpperCase(), dir)).toEqual(Buffer.from(hex, 'hex'));
  });

  it('derives any other SECRET_KEY with scrypt (salt "postroom SECRET_KEY v1", N 16384, r 8, p 1), not a bare hash', async () => {
    for (const secret of ['correct horse battery staple', 'abc', 'a'.repeat(63), `${'0'.repeat(63)}g`]) {
      const key = await loadSecretKey(secret, dir);
      expect(key).toEqual(scryptSync(secret, 'postroom SECRET_KEY v1', 32, { N: 16384, r: 8, p: 1 }));
      expect(key).not.toEqual(createHash('sha256').update(secret).digest());
    }
  });

  it('keeps the SHA-256 key of a passphrase as the legacy key only (none for 64 hex characters or the key file)', () => {
    expect(legacyPassphraseKey('correct horse battery staple')).toEqual(createHash('sha256').update('correct horse battery staple').digest());
    expect(legacyPassphraseKey(randomBytes(32).toString('hex'))).toBeUndefined();
    expect(legacyPassphraseKey(undefined)).toBeUndefined();
  });

  it('gives a key that SecretBox accepts when derived from SECRET_KEY', async () => {
    const box = new SecretBox(await loadSecretKey('passphrase', dir));
    expect(box.open(box.seal('x'))).toBe('x');
  });

  it('does not create a key file when SECRET_KEY is set', async () => {
    await loadSecretKey('passphrase', dir);
    await expect(stat(path.join(dir, 'secret.key'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('creates DATA_DIR/secret.key with mode 0600 and 64 hex characters when there is no SECRET_KEY', async () => {
    const dataDir = path.join(dir, 'nested', 'data');
    const key = await loadSecretKey(undefined, dataDir);
    const file = path.join(dataDir, 'secret.key');
    expect(key).toHaveLength(32);
    expect(await readFile(file, 'utf8')).toBe(`${key.toString('hex')}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('reuses the key file on the second call', async () => {
    const first = await loadSecretKey(undefined, dir);
    const second = await loadSecretKey(undefined, dir);
    expect(second).toEqual(first);
  });

  it('reads an existing key file, ignoring surrounding whitespace', async () => {
    const hex = randomBytes(32).toString('hex');
    await writeFile(path.join(dir, 'secret.key'), `  ${hex}\n\n`);
    expect(await loadSecretKey(undefined, dir)).toEqual(Buffer.from(hex, 'hex'));
  });

  it('fails, rather than replacing it, when the key file holds something else', async () => {
    const file = path.join(dir, 'secret.key');
    await writeFile(file, 'not a key\n');
    await expect(loadSecretKey(undefined, dir)).rejects.toThrow(`${file} does not hold a 64-hex-character key`);
    expect(await readFile(file, 'utf8')).toBe('not a key\n');
  });

  it('gives every caller the same complete key when several race on an empty directory', async () => {
    for (let round = 0; round < 100; round++) {
      const dataDir = path.join(dir, `round-${round}`);
      const keys = await Promise.all([1, 2, 3, 4].map(() => loadSecretKey(undefined, dataDir)));
      for (const k of keys) {
        expect(k).toHaveLength(32);
        expect(k).toEqual(keys[0]);
      }
      expect(await readdir(dataDir)).toEqual(['secret.key']);
    }
  });
});
