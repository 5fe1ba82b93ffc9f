import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { DashboardSessions } from '../web/dashboard-sessions.js';

/**
 * The password generated at first start, and the file in DATA_DIR that keeps it for the
 * operator; at a later start, only the file, while it is still there (the password unchanged).
 */
export interface InitialPassword {
  password?: string;
  file: string;
}

/** The lines main.ts prints last at start-up, after the framework's own log lines. */
export function initialPasswordNotice({ password, file }: InitialPassword): string {
  // A later start names only the file: the password stays out of the logs after the first time.
  if (password === undefined) return `\n  Postroom dashboard: the admin password generated at the first start is in ${file}\n  (until it is changed; set ADMIN_PASSWORD to choose your own)\n\n`;
  return `\n  Postroom dashboard: log in as admin with the password  ${password}\n  (kept in ${file}; set ADMIN_PASSWORD to choose your own)\n\n`;
}

/** argon2, loaded when a password is first hashed or checked: a restart with a stored hash does without it. */
const argon2 = () => import('@node-rs/argon2');

/** Longer passwords are refused at login (argon2 would hash them, slowly, for nothing). */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * The dashboard's admin password, kept as an argon2id hash in the database: ADMIN_PASSWORD, or one
 * generated on first start and kept, for the first login, in DATA_DIR/initial-admin-password.
 */
@Injectable()
export class AdminPasswordService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly sessions: DashboardSessions,
    private readonly events: EventLogService,
  ) {}

  /** ADMIN_PASSWORD is set: the next start puts it back over a password changed in the dashboard. */
  get setByEnvironment(): boolean {
    return Boolean(this.config.adminPassword);
  }

  private get initialPasswordFile(): string {
    return path.join(this.config.dataDir, 'initial-admin-password');
  }

  /**
   * Called once at start. ADMIN_PASSWORD replaces a stored password that differs (ending every
   * session): a restart with it is the way back in. Without it, makes a password when none
   * exists and returns it for main.ts to print: never in the event log or the JSON log, the
   * console and the file only.
   */
  async ensure(): Promise<InitialPassword | undefined> {
    const stored = await this.storedHash();
    if (this.config.adminPassword) {
      if (!stored || !(await (await argon2()).verify(stored, this.config.adminPassword))) await this.change(this.config.adminPassword, 'ADMIN_PASSWORD');
      return undefined;
    }
    // Still unchanged since it was generated (a change removes the file): say where it is, in
    // case the start that generated it never got as far as printing it.
    if (stored) return (await stat(this.initialPasswordFile).then(() => true, () => false)) ? { file: this.initialPasswordFile } : undefined;
    const password = randomBytes(12).toString('base64url');
    const passwordHash = await (await argon2()).hash(password);
    const file = this.initialPasswordFile;
    const created = await this.db.transaction(async (tx) => {
      const inserted: unknown = await tx.query(
        'INSERT INTO admin_account (id, password_hash) VALUES (1, $1) ON CONFLICT (id) DO NOTHING RETURNING id',
        [passwordHash],
      );
      if (!Array.isArray(inserted) || inserted.length === 0) return false; // another instance made one first
      // Written before the commit: a password stored but written nowhere would lock the operator
      // out. A fresh file (not one a link points to), readable by Postroom's user only.
      await rm(file, { force: true });
      await writeFile(file, password + '\n', { mode: 0o600, flag: 'wx' });
      return true;
    });
    if (!created) return undefined;
    this.logger.warn({ file }, 'generated the dashboard admin password; it is printed at the end of start-up');
    return { password, file };
  }

  /**
   * Stores a new admin password and ends every dashboard session with it, in one transaction;
   * `by` says who in the event log. Returns how many sessions ended.
   */
  async change(password: string, by: string): Promise<number> {
    if (!password || password.length > MAX_PASSWORD_LENGTH) throw new Error(`the admin password must be 1 to ${MAX_PASSWORD_LENGTH} characters`);
    const passwordHash = await (await argon2()).hash(password);
    const ended = await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO admin_account (id, password_hash) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET password_hash = EXCLUDED.password_hash', [passwordHash]);
      const count = await this.sessions.endAll(tx);
      await this.events.record({ level: 'info', source: 'system', message: `Admin password changed (${by}): ${count} dashboard session(s) ended`, details: { by, sessionsEnded: count } }, tx);
      return count;
    });
    // The generated password's file holds the old one now.
    await rm(this.initialPasswordFile, { force: true });
    return ended;
  }

  async check(password: string): Promise<boolean> {
    if (!password || password.length > MAX_PASSWORD_LENGTH) return false;
    const stored = await this.storedHash();
    return stored ? (await argon2()).verify(stored, password) : false;
  }

  private async storedHash(): Promise<string | undefined> {
    const rows: { password_hash: string }[] = await this.db.query('SELECT password_hash FROM admin_account WHERE id = 1');
    return rows[0]?.password_hash;
  }
}
