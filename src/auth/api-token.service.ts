import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/sql.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Bearer tokens: API_TOKEN from the environment, and tokens made at run time (stored as SHA-256). */
@Injectable()
export class ApiTokenService {
  private readonly envDigest?: Buffer;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    if (config.apiToken) this.envDigest = Buffer.from(sha256(config.apiToken), 'hex');
  }

  async verify(token: string): Promise<boolean> {
    if (!token) return false;
    const digest = sha256(token);
    if (this.envDigest && timingSafeEqual(this.envDigest, Buffer.from(digest, 'hex'))) return true;
    const rows = await queryRows(this.db,
      'UPDATE api_token SET last_used_at = now() WHERE token_sha256 = $1 RETURNING id',
      [digest],
    );
    return rows.length > 0;
  }

  /** Makes a token; returns it once (only its digest is kept). */
  async create(name: string): Promise<string> {
    const token = 'pr_' + randomBytes(24).toString('base64url');
    await this.db.query('INSERT INTO api_token (name, token_sha256) VALUES ($1, $2)', [name, sha256(token)]);
    return token;
  }

  /**
   * The local CLI's token: DATA_DIR/cli.token (mode 0600), made on first start. Whoever can
   * read DATA_DIR administers Postroom, as with Postfix's queue directory.
   */
  async ensureCliToken(): Promise<void> {
    const file = path.join(this.config.dataDir, 'cli.token');
    const existing = await readFile(file, 'utf8').then((t) => t.trim(), () => '');
    if (existing) {
      const found: unknown[] = await this.db.query('SELECT 1 FROM api_token WHERE token_sha256 = $1', [sha256(existing)]);
      if (found.length > 0) return;
    }
    await mkdir(this.config.dataDir, { recursive: true });
    const token = await this.create(`cli@${this.config.instanceName.replace(/-\d+$/, '')}`);
    await writeFile(file, token + '\n', { mode: 0o600 });
  }
}
