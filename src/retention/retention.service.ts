import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { Sql } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import { SettingsService } from '../settings/settings.service.js';

/** Any constant shared by every instance: the advisory lock that makes one instance purge. */
const RETENTION_LOCK = 0x70757267n; // "purg"

export interface PurgeResult {
  mailLog: number;
  events: number;
  days: number;
  before: Date;
}

/**
 * Retention: mail-log entries and events older than `retentionDays` are deleted once a day by
 * their owners (in batches: database/batched-purge.ts), by one instance at a time (a session
 * advisory lock). Checked every hour; the retention_run row, this module's own, remembers the
 * last run, so a restart neither skips nor repeats a day.
 *
 * Message bodies need no retention: a body lives in message_body only while its message is in
 * the queue, and goes with it, in the statement that deletes the message (see
 * queue/message-dependents.ts), once delivered, bounced or deleted.
 */
@Injectable()
export class RetentionService {
  private readonly log: Logger;

  constructor(
    private readonly sql: Sql,
    private readonly settings: SettingsService,
    private readonly mailLog: MailLogService,
    private readonly events: EventLogService,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'retention' });
  }

  @Cron(CronExpression.EVERY_HOUR, { name: 'retention', waitForCompletion: true })
  async tick(): Promise<void> {
    await this.runIfDue().catch((err: unknown) => this.log.error({ err }, 'retention: purge failed; trying again next hour'));
  }

  /** Purges when the last run is a day old (or never happened); null when not due or another instance is at it. */
  async runIfDue(now = new Date()): Promise<PurgeResult | null> {
    const rows = await this.sql.rows<{ due: boolean }>(
      `SELECT (last_run_at IS NULL OR last_run_at <= $1::timestamptz - interval '23 hours 50 minutes') AS due FROM retention_run WHERE id = 1`,
      [now],
    );
    if (!rows[0]?.due) return null;
    return this.purge(now);
  }

  /** Deletes every mail-log entry and event older than the retention setting, in batches. */
  purge(now = new Date()): Promise<PurgeResult | null> {
    return this.sql.session(async (s) => {
      const [lock] = await this.sql.rows<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RETENTION_LOCK.toString()], s);
      if (!lock?.ok) return null;
      try {
        const days = (await this.settings.get()).retentionDays;
        const before = new Date(now.getTime() - days * 86_400_000);
        const mailLog = await this.mailLog.purgeOlderThan(before);
        const events = await this.events.purgeOlderThan(before);
        await this.sql.rows(`UPDATE retention_run SET last_run_at = $1 WHERE id = 1`, [now], s);
        const result = { mailLog, events, days, before };
        this.log.info({ ...result, before: before.toISOString() }, 'retention: purge done');
        if (mailLog + events > 0) {
          await this.events.record({
            level: 'info',
            source: 'system',
            message: `Retention: ${mailLog} mail-log rows and ${events} events older than ${days} days purged`,
            details: { mailLog, events, days, before: before.toISOString() },
          });
        }
        return result;
      } finally {
        await this.sql.rows('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK.toString()], s).catch(() => undefined);
      }
    });
  }
}
