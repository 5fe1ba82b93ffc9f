import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, QueryRunner } from 'typeorm';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { SettingsService } from '../settings/settings.service.js';

/** Any constant shared by every instance: the advisory lock that makes one instance purge. */
const RETENTION_LOCK = 0x70757267n; // "purg"
const BATCH = 5000;

export interface PurgeResult {
  mailLog: number;
  events: number;
  days: number;
  before: Date;
}

/**
 * Retention: mail-log entries and events older than `retentionDays` are deleted once a day, in
 * batches of a few thousand rows (each its own short transaction, so no long lock and no huge
 * WAL burst), by one instance at a time (a session advisory lock). Checked every hour; the
 * retention_run row remembers the last run, so a restart neither skips nor repeats a day.
 *
 * Message bodies need no retention: a body lives in message_body only while its message is in
 * the queue, and goes with it, in the statement that deletes the message (see
 * queue/message-dependents.ts), once delivered, bounced or deleted.
 */
@Injectable()
export class RetentionService {
  private readonly log: Logger;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly settings: SettingsService,
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
    const rows: { due: boolean }[] = await this.db.query(
      `SELECT (last_run_at IS NULL OR last_run_at <= $1::timestamptz - interval '23 hours 50 minutes') AS due FROM retention_run WHERE id = 1`,
      [now],
    );
    if (!rows[0]?.due) return null;
    return this.purge(now);
  }

  /** Deletes every mail-log entry and event older than the retention setting, in batches. */
  async purge(now = new Date()): Promise<PurgeResult | null> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const [lock] = (await runner.query('SELECT pg_try_advisory_lock($1) AS ok', [RETENTION_LOCK.toString()])) as { ok: boolean }[];
      if (!lock?.ok) return null;
      try {
        const days = (await this.settings.get()).retentionDays;
        const before = new Date(now.getTime() - days * 86_400_000);
        const mailLog = await this.purgeTable(runner, 'mail_log', before);
        const events = await this.purgeTable(runner, 'event', before);
        await runner.query(`UPDATE retention_run SET last_run_at = $1 WHERE id = 1`, [now]);
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
        await runner.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK.toString()]).catch(() => undefined);
      }
    } finally {
      await runner.release();
    }
  }

  /** Oldest first, BATCH rows per statement, until a batch comes back short. */
  private async purgeTable(runner: QueryRunner, table: 'mail_log' | 'event', before: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const result: unknown = await runner.query(
        `WITH old AS (SELECT id FROM ${table} WHERE at < $1 ORDER BY at LIMIT ${BATCH})
         DELETE FROM ${table} t USING old WHERE t.id = old.id`,
        [before],
      );
      const n = Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
      total += n;
      if (n < BATCH) return total;
    }
  }
}
