import { z } from 'zod';
import { dateTime, whole } from './views-common.js';

/** The daily report (reports/report.types.ts): sizes in bytes, delays in milliseconds. */
export function reportViews() {
  const n = whole;
  const ReportTotals = z.strictObject({
    received: n().describe("Messages accepted at intake, Postroom's own notices left out"),
    delivered: n().describe('Mail recipients delivered (a notification channel\'s post is counted in posted)'),
    posted: n().describe('Messages posted to notification channels by routing rules (in no other total)'),
    deferred: n().describe('Messages deferred at least once that day'),
    deferrals: n().describe('Deferral outcomes (one per recipient per attempt)'),
    bounced: n().describe('Recipients bounced'),
    rejected: n().describe('Refusals at intake'),
    held: n().describe('Messages put on hold'),
    deleted: n().describe('Messages an operator deleted from the queue'),
    notices: n().describe("Postroom's own mail received: delivery status notices, storm digests, the daily report"),
    tests: n().describe('Test emails (in no other total)'),
    bytesReceived: n(),
    bytesDelivered: n().describe('The size of a message once per recipient delivered'),
    senders: n().describe('Distinct envelope senders of received messages'),
    sendingHosts: n().describe('Distinct client addresses of received messages'),
    recipients: n().describe('Distinct recipients delivered to'),
    recipientDomains: n().describe('Distinct domains delivered to'),
  });
  const HourRow = z.strictObject({ hour: n().min(0).max(23), received: n(), delivered: n(), deferred: n().describe('Deferrals in that hour'), bounced: n(), rejected: n() });
  const DomainRow = z.strictObject({
    domain: z.string(),
    sent: n(),
    bytes: n(),
    deferrals: n(),
    avgDelayMs: n().nullable().describe('Of the deliveries; null when nothing was delivered to the domain'),
    maxDelayMs: n().nullable(),
  });
  const AddressRow = z.strictObject({ address: z.string().describe("Lower-cased; '' is the null sender (<>)"), count: n(), bytes: n() });
  const ReasonRow = z.strictObject({ reason: z.string(), count: n() });
  const EventRow = z.strictObject({ id: z.string(), at: dateTime(), source: z.string(), message: z.string() });
  const ChannelRow = z.strictObject({
    id: n().describe('The channel (its queue recipient is channel:<id>)'),
    name: z.string().describe('Its name at its last attempt of the day'),
    posted: n(),
    deferrals: n().describe('Attempts that will be tried again'),
    failed: n().describe('Messages refused for good or out of lifetime'),
    problem: z.string().nullable().describe('The most frequent reason of its deferrals and failures'),
  });
  const DailyReport = z
    .strictObject({
      date: z.string().describe('The calendar day, YYYY-MM-DD, in timezone'),
      timezone: z.string(),
      totals: ReportTotals,
      hourly: z.array(HourRow).describe('24 rows, hour 0 to 23 of the local day'),
      domains: z.array(DomainRow),
      topSenders: z.array(AddressRow),
      topRecipients: z.array(AddressRow),
      topSendersBySize: z.array(AddressRow),
      topRecipientsBySize: z.array(AddressRow),
      problems: z.strictObject({ deferred: z.array(ReasonRow), bounced: z.array(ReasonRow), rejected: z.array(ReasonRow) }).describe('Of mail; a channel\'s are in channels'),
      channels: z.array(ChannelRow).describe('Notification channels that routing rules sent messages to that day'),
      warnings: z.array(EventRow),
      errors: z.array(EventRow),
    })
    .describe('The report of one day');
  return { DailyReport, ReportTotals, ReportHourRow: HourRow, ReportDomainRow: DomainRow, ReportAddressRow: AddressRow, ReportReasonRow: ReasonRow, ReportEventRow: EventRow, ReportChannelRow: ChannelRow };
}

/** /healthz and /readyz (health/health.controller.ts). */
export function healthViews() {
  const upDown = z.enum(['up', 'down']);
  return {
    Health: z.strictObject({ status: z.literal('ok') }),
    Readiness: z
      .strictObject({ status: z.enum(['ok', 'unavailable']), database: upDown, listener: upDown.describe('The SMTP listener') })
      .describe('ok only when the database answers and the SMTP listener is bound'),
  };
}
