import { channelRecipient } from '../../common/channel-recipient.js';
import { hourlyChartSvg } from '../../reports/report-chart.js';
import { addDays, dayRange, hourRange, longDate } from '../../reports/report-date.js';
import { delay } from '../../reports/report-text.js';
import type { AddressRow, DailyReport } from '../../reports/report.types.js';

/** A link with its query; empty values are left out. */
export function link(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

/** A number and, when it is not zero, the mail-log (or logs) page that lists the rows behind it. */
interface Cell {
  value: number;
  href?: string;
}

const cell = (value: number, href: string): Cell => (value > 0 ? { value, href } : { value });

/**
 * Everything the report page shows, from the report: numbers with links to the mail log rows
 * behind them (the mail-log page takes event, address, since and until as datetime-local
 * strings in the server's time zone), and the chart as SVG.
 */
export function reportPageModel(r: DailyReport, today: string) {
  const day = dayRange(r.date);
  const mailLog = (event: string, extra: Record<string, string | undefined> = {}) => link('/mail-log', { event, ...extra, since: extra.since ?? day.since, until: extra.until ?? day.until });
  // A delivery outcome's rows: mail's, as the numbers are (a channel's are in the channels table).
  const mail = (event: string, extra: Record<string, string | undefined> = {}) => mailLog(event, { kind: 'mail', ...extra });
  const logs = (extra: Record<string, string>) => link('/logs', { ...extra, since: day.since, until: day.until });
  const t = r.totals;
  const addressRows = (rows: AddressRow[], event: 'received' | 'sent') =>
    rows.map((a) => ({ address: a.address || '<>', count: a.count, bytes: a.bytes, href: a.address ? mailLog(event, { address: a.address }) : mailLog(event) }));

  return {
    date: r.date,
    timezone: r.timezone,
    dayLabel: longDate(r.date),
    isToday: r.date === today,
    previous: { date: addDays(r.date, -1), href: `/reports/${addDays(r.date, -1)}` },
    next: r.date < today ? { date: addDays(r.date, 1), href: `/reports/${addDays(r.date, 1)}` } : null,
    maxDate: today,
    exports: { text: `/reports/${r.date}?format=text`, json: `/reports/${r.date}?format=json` },
    totals: [
      { label: 'Received', ...cell(t.received, mailLog('received')) },
      { label: 'Notices', ...cell(t.notices, mailLog('received')), note: "Postroom's own" },
      { label: 'Delivered', ...cell(t.delivered, mail('sent')) },
      ...(t.posted > 0 ? [{ label: 'Posted to channels', ...cell(t.posted, mailLog('sent', { kind: 'channel' })) }] : []),
      { label: 'Deferred', ...cell(t.deferred, mail('deferred')), note: `${t.deferrals} deferral${t.deferrals === 1 ? '' : 's'}` },
      { label: 'Bounced', ...cell(t.bounced, mail('bounced')), bad: t.bounced > 0 },
      { label: 'Rejected', ...cell(t.rejected, mailLog('rejected')), bad: t.rejected > 0 },
      { label: 'Held', ...cell(t.held, mailLog('held')) },
      { label: 'Deleted', ...cell(t.deleted, mailLog('deleted')) },
      { label: 'Test emails', ...cell(t.tests, mailLog('test')) },
    ],
    volume: [
      { label: 'Bytes received', value: t.bytesReceived, bytes: true, href: t.bytesReceived > 0 ? mailLog('received') : undefined },
      { label: 'Bytes delivered', value: t.bytesDelivered, bytes: true, href: t.bytesDelivered > 0 ? mail('sent') : undefined },
      { label: 'Senders', ...cell(t.senders, mailLog('received')) },
      { label: 'Sending hosts', ...cell(t.sendingHosts, mailLog('received')) },
      { label: 'Recipients', ...cell(t.recipients, mail('sent')) },
      { label: 'Recipient domains', ...cell(t.recipientDomains, mail('sent')) },
    ],
    chart: hourlyChartSvg(r.hourly, `Messages per hour on ${r.date} (${r.timezone})`),
    hourly: r.hourly.map((h) => {
      const range = hourRange(r.date, h.hour);
      const at = (event: string, value: number) => cell(value, event === 'received' || event === 'rejected' ? mailLog(event, range) : mail(event, range));
      return {
        label: `${String(h.hour).padStart(2, '0')}:00–${String((h.hour + 1) % 24).padStart(2, '0')}:00`,
        cells: [at('received', h.received), at('sent', h.delivered), at('deferred', h.deferred), at('bounced', h.bounced), at('rejected', h.rejected)],
      };
    }),
    domains: r.domains.map((d) => ({
      domain: d.domain,
      sent: cell(d.sent, mailLog('sent', { address: '@' + d.domain })),
      bytes: d.bytes,
      deferrals: cell(d.deferrals, mailLog('deferred', { address: '@' + d.domain })),
      avgDelay: delay(d.avgDelayMs),
      maxDelay: delay(d.maxDelayMs),
    })),
    topSenders: addressRows(r.topSenders, 'received'),
    topSendersBySize: addressRows(r.topSendersBySize, 'received'),
    topRecipients: addressRows(r.topRecipients, 'sent'),
    topRecipientsBySize: addressRows(r.topRecipientsBySize, 'sent'),
    problems: (['deferred', 'bounced', 'rejected'] as const).map((kind) => ({
      kind,
      title: { deferred: 'Deferrals', bounced: 'Bounces', rejected: 'Rejections' }[kind],
      href: kind === 'rejected' ? mailLog(kind) : mail(kind),
      rows: r.problems[kind],
    })),
    channels: r.channels.map((c) => {
      const of = { kind: channelRecipient(c.id) };
      return {
        name: c.name,
        posted: cell(c.posted, mailLog('sent', of)),
        deferrals: cell(c.deferrals, mailLog('deferred', of)),
        failed: cell(c.failed, mailLog('bounced', of)),
        problem: c.problem,
      };
    }),
    warnings: { rows: r.warnings, href: logs({ level: 'warning' }) },
    errors: { rows: r.errors, href: logs({ level: 'error' }) },
  };
}
