import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { queryRows } from '../database/sql.js';

const HOUR_MS = 3600_000;

/**
 * The life of a logged-in dashboard session: it ends SESSION_LIFETIME_HOURS after its login,
 * however busy, and every session ends when the admin password changes.
 */
@Injectable()
export class DashboardSessions {
  readonly lifetimeMs: number;
  /** The sessions the last password change ended, should a request in flight write one back. */
  private ended = new Set<string>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.lifetimeMs = config.sessionLifetimeHours * HOUR_MS;
  }

  /** Whether a logged-in session is over: past its lifetime since login (no login time: over), or ended. */
  isOver(sid: string, loginAt: number | undefined, now = Date.now()): boolean {
    return loginAt === undefined || now - loginAt >= this.lifetimeMs || this.ended.has(sid);
  }

  /**
   * Ends every session, in the caller's transaction: the rows go, and this process refuses
   * them should a request still in flight save one again as it ends. Returns how many ended.
   */
  async endAll(tx: EntityManager): Promise<number> {
    const rows = await queryRows<{ sid: string }>(tx, 'DELETE FROM web_session RETURNING sid');
    this.ended = new Set(rows.map((r) => r.sid));
    return rows.length;
  }
}
