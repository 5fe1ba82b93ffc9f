import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Logger } from 'pino';
import { formatMailbox } from '../common/address.js';
import { appTimeZone } from '../common/timezone.js';
import { Sql } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { IntakeService } from '../intake/intake.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { SettingsService } from '../settings/settings.service.js';
import { formatReportText } from './report-text.js';
import { dueReportDate } from './report-schedule.js';
import { ReportsService } from './reports.service.js';

/**
 * The optional daily mail: every minute, when the setting is on and the local clock has reached
 * the chosen time, yesterday's text report goes to the admin address through Postroom's own
 * queue. The report_delivery row is claimed (UPDATE … WHERE last_report_date < the day) in the
 * transaction that records the event, and the row lock makes a second instance wait and then
 * find the day taken: one mail a day however many instances run. A failed submission rolls the
 * claim back, so the next minute tries again.
 */
@Injectable()
export class ReportMailer {
  private readonly log: Logger;

  constructor(
    private readonly sql: Sql,
    private readonly settings: SettingsService,
    private readonly reports: ReportsService,
    private readonly intake: IntakeService,
    private readonly events: EventLogService,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'reports' });
  }

  @Cron(CronExpression.EVERY_MINUTE, { name: 'daily-report', waitForCompletion: true })
  async tick(): Promise<void> {
    await this.sendIfDue().catch((err: unknown) => this.log.error({ err }, 'daily report: could not send'));
  }

  /** Sends yesterday's report when it is due; resolves with its date, or null when nothing was due. */
  async sendIfDue(now = new Date(), timeZone = appTimeZone()): Promise<string | null> {
    const s = await this.settings.get();
    if (!s.reportEnabled) return null;
    const rows = await this.sql.rows<{ last: string | null }>(`SELECT last_report_date::text AS last FROM report_delivery WHERE id = 1`);
    const date = dueReportDate(s.reportTime, rows[0]?.last ?? null, timeZone, now);
    if (!date) return null;

    return this.sql.transaction(async (tx) => {
      const claimed = await this.sql.rows(
        `UPDATE report_delivery SET last_report_date = $1, last_sent_at = now() WHERE id = 1 AND (last_report_date IS NULL OR last_report_date < $1) RETURNING id`,
        [date],
        tx,
      );
      if (claimed.length === 0) return null;
      if (!s.adminAddress) {
        await this.events.record({ level: 'warning', source: 'system', message: `Daily report for ${date} not mailed: no admin address is set`, details: { date } }, tx);
        return null;
      }
      const report = await this.reports.report(date, timeZone);
      const envelopeFrom = s.fromAddress || `postroom@${await this.settings.heloName()}`;
      const raw = await new MailComposer({
        from: formatMailbox(s.fromName, envelopeFrom),
        to: s.adminAddress,
        subject: `Postroom report for ${date}: ${report.totals.received} received, ${report.totals.delivered} delivered, ${report.totals.bounced} bounced`,
        text: formatReportText(report),
      })
        .compile()
        .build();
      const queueId = await this.intake.submit({ envelopeFrom, recipients: [s.adminAddress], raw, client: { address: null, protocol: 'local' }, notice: 'report' });
      await this.events.record({ level: 'info', source: 'system', message: `Daily report for ${date} mailed to ${s.adminAddress} (${queueId})`, details: { date, to: s.adminAddress, queueId } }, tx);
      return date;
    });
  }
}
