import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';

/**
 * The dashboard's admin password: ADMIN_PASSWORD, or one generated on first start, printed once,
 * and kept only as an argon2id hash.
 */
@Injectable()
export class AdminPasswordService {
  private envHash?: Promise<string>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** Called once at start: makes and prints a password when none exists. */
  async ensure(): Promise<void> {
    if (this.config.adminPassword) {
      this.envHash = hash(this.config.adminPassword);
      return;
    }
    const rows: unknown[] = await this.db.query('SELECT 1 FROM admin_account WHERE id = 1');
    if (rows.length > 0) return;
    const password = randomBytes(12).toString('base64url');
    const inserted: unknown = await this.db.query(
      'INSERT INTO admin_account (id, password_hash) VALUES (1, $1) ON CONFLICT (id) DO NOTHING RETURNING id',
      [await hash(password)],
    );
    if (Array.isArray(inserted) && inserted.length > 0) {
      // Printed once, on the console only (never in the event log): the operator's first login.
      process.stdout.write(`\n  Postroom dashboard: log in as admin with the password  ${password}\n  (set ADMIN_PASSWORD to choose your own)\n\n`);
      this.logger.warn('generated the dashboard admin password; it was printed once on the console');
    }
  }

  async check(password: string): Promise<boolean> {
    if (!password || password.length > 1024) return false;
    if (this.config.adminPassword) return verify(await (this.envHash ??= hash(this.config.adminPassword)), password);
    const rows: { password_hash: string }[] = await this.db.query('SELECT password_hash FROM admin_account WHERE id = 1');
    const stored = rows[0]?.password_hash;
    return stored ? verify(stored, password) : false;
  }
}
