import { Inject, Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { formatMailbox } from '../common/address.js';
import { composeMail } from '../common/compose-mail.js';
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

  /** Sends yesterday's report and/or heartbeat when due; resolves with its date, or null when nothing was due. */
  async sendIfDue(now = new Date(), timeZone = appTimeZone()): Promise<string | null> {
    const s = await this.settings.get();
    if (!s.reportEnabled && !s.heartbeatEnabled) return null;
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
      const what = [s.reportEnabled ? 'report' : '', s.heartbeatEnabled ? 'heartbeat' : ''].filter(Boolean).join(' and ');
      if (!s.adminAddress) {
        await this.events.record({ level: 'warning', source: 'system', message: `Daily ${what} for ${date} not mailed: no admin address is set`, details: { date } }, tx);
        return null;
      }
      const report = await this.reports.report(date, timeZone);
      const host = await this.settings.heloName();
      const envelopeFrom = s.fromAddress || `postroom@${host}`;
      const t = report.totals;
      const mails = [
        ...(s.reportEnabled ? [{ subject: `Postroom report for ${date}: ${t.received} received, ${t.delivered} delivered, ${t.bounced} bounced`, text: formatReportText(report) }] : []),
        ...(s.heartbeatEnabled
          ? [
              {
                subject: `Postroom heartbeat from ${host}: the mail path works`,
                text: `This message went through Postroom's queue and relay: the mail path of ${host} works.\n\nYesterday (${date}): ${t.received} received, ${t.delivered} delivered, ${t.bounced} bounced.\n\nIt comes every day at ${s.reportTime}; when it stops, look at the appliance.\n`,
              },
            ]
          : []),
      ];
      const queueIds: string[] = [];
      for (const mail of mails) {
        const raw = await composeMail({ from: formatMailbox(s.fromName, envelopeFrom), to: s.adminAddress, ...mail });
        queueIds.push(await this.intake.submit({ envelopeFrom, recipients: [s.adminAddress], raw, client: { address: null, protocol: 'local' }, notice: 'report' }));
      }
      await this.events.record({ level: 'info', source: 'system', message: `Daily ${what} for ${date} mailed to ${s.adminAddress} (${queueIds.join(', ')})`, details: { date, to: s.adminAddress, queueIds } }, tx);
      return date;
    });
  }
}
