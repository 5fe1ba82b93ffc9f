import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scrypt } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const VERSION = 'v1';

/** The application's SecretBox (RelaysModule provides it; session cookies derive their keys from it too). */
export const SECRET_BOX = Symbol('SECRET_BOX');

/** How a sealed value stands with a box's keys: the start-up check re-seals 'legacy' ones. */
export type SealState = 'current' | 'legacy' | 'unreadable';

/**
 * Seals secrets at rest with AES-256-GCM: "v1.<iv>.<tag>.<ciphertext>" in base64url. A legacy
 * key (the SHA-256 of a SECRET_KEY passphrase, from before scrypt) still opens what it sealed,
 * so an upgrade loses nothing; sealing and derived keys use the current key only.
 */
export class SecretBox {
  constructor(
    private readonly key: Buffer,
    private readonly legacyKey?: Buffer,
  ) {
    if (key.length !== 32 || (legacyKey && legacyKey.length !== 32)) throw new Error('SecretBox needs a 32-byte key');
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  /** A key for another purpose (e.g. signing session cookies), derived so the two never coincide. */
  derive(label: string): string {
    return createHmac('sha256', this.key).update(label).digest('hex');
  }

  /** The secret in clear; throws when neither key opens it (another SECRET_KEY, or tampering). */
  open(sealed: string): string {
    try {
      return openWith(this.key, sealed);
    } catch (err) {
      if (!this.legacyKey) throw err;
      return openWith(this.legacyKey, sealed);
    }
  }

  /** The secret in clear, or undefined when it cannot be opened. */
  tryOpen(sealed: string): string | undefined {
    try {
      return this.open(sealed);
    } catch {
      return undefined;
    }
  }

  /** Which key opens a sealed value, if any (never throws). */
  check(sealed: string): SealState {
    const opens = (key: Buffer | undefined): boolean => {
      if (!key) return false;
      try {
        openWith(key, sealed);
        return true;
      } catch {
        return false;
      }
    };
    return opens(this.key) ? 'current' : opens(this.legacyKey) ? 'legacy' : 'unreadable';
  }
}

function openWith(key: Buffer, sealed: string): string {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * A passphrase becomes a key through scrypt, with a fixed salt (the key must follow from the
 * passphrase alone) and the cost of Node's defaults: about 16 MiB and 50-100 ms, once at
 * start-up. A derived key signs the session cookies that anonymous visitors get; with a bare
 * hash, one cookie would let anyone test passphrases offline at billions a second.
 */
const PASSPHRASE_SALT = 'postroom SECRET_KEY v1';
const PASSPHRASE_COST = { N: 16384, r: 8, p: 1 } as const;

const scryptAsync = promisify(scrypt) as (password: string, salt: string, keylen: number, options: typeof PASSPHRASE_COST) => Promise<Buffer>;

/** The key that versions before scrypt derived from a passphrase (SHA-256): it only opens what they sealed. */
export function legacyPassphraseKey(secretKey: string | undefined): Buffer | undefined {
  return secretKey && !HEX_KEY.test(secretKey) ? createHash('sha256').update(secretKey).digest() : undefined;
}

/**
 * The key: SECRET_KEY (64 hex characters are used as they are, any other text is a passphrase
 * derived with scrypt), or a random key kept in DATA_DIR/secret.key with mode 0600.
 */
export async function loadSecretKey(secretKey: string | undefined, dataDir: string): Promise<Buffer> {
  if (secretKey) {
    return HEX_KEY.test(secretKey) ? Buffer.from(secretKey, 'hex') : scryptAsync(secretKey, PASSPHRASE_SALT, 32, PASSPHRASE_COST);
  }
  const file = path.join(dataDir, 'secret.key');
  try {
    const hex = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
    throw new Error(`${file} does not hold a 64-hex-character key`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dataDir, { recursive: true });
    const key = randomBytes(32);
    // Written aside and linked into place, so a process racing us never reads a half-written file.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp, file).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  }
}
