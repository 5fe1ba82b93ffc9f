import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const VERSION = 'v1';

/** Seals secrets at rest with AES-256-GCM: "v1.<iv>.<tag>.<ciphertext>" in base64url. */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
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

  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/**
 * The key: SECRET_KEY (64 hex characters are used as they are, anything else is hashed with
 * SHA-256), or a random key kept in DATA_DIR/secret.key with mode 0600.
 */
export async function loadSecretKey(secretKey: string | undefined, dataDir: string): Promise<Buffer> {
  if (secretKey) {
    return /^[0-9a-fA-F]{64}$/.test(secretKey) ? Buffer.from(secretKey, 'hex') : createHash('sha256').update(secretKey).digest();
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
