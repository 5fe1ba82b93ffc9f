import type { AddressRow, ChannelRow, DailyReport, DomainRow, EventRow, HourRow, ReasonRow, ReportTotals } from './report.types.js';

/** What the repository reads for one day; the report is assembled from it by pure functions. */
export interface ReportData {
  /** Entries of the day per local hour and kind (the event; 'notice' and 'test' apart): how many, and their sizes summed. */
  byHour: { hour: number; event: string; count: number; bytes: number }[];
  /** Distinct messages with a deferral that day. */
  deferredMessages: number;
  sendingHosts: number;
  senders: { total: number; byCount: AddressRow[]; bySize: AddressRow[] };
  recipients: { total: number; domains: number; byCount: AddressRow[]; bySize: AddressRow[] };
  /** Per recipient domain; avgDelayMs may be fractional here. */
  domains: DomainRow[];
  /** Grouped refusals and failures of mail: event is deferred, bounced or rejected. */
  problems: { event: string; reason: string; count: number }[];
  channels: ChannelRow[];
  warnings: EventRow[];
  errors: EventRow[];
}

const OUTCOME_OF: Record<string, keyof Omit<HourRow, 'hour'> | undefined> = {
  received: 'received',
  sent: 'delivered',
  deferred: 'deferred',
  bounced: 'bounced',
  rejected: 'rejected',
};

/** 24 rows, one per local hour; an hour outside 0-23 (none should be) is ignored. */
export function hourlyRows(byHour: ReportData['byHour']): HourRow[] {
  const rows: HourRow[] = Array.from({ length: 24 }, (_, hour) => ({ hour, received: 0, delivered: 0, deferred: 0, bounced: 0, rejected: 0 }));
  for (const r of byHour) {
    const row = rows[r.hour];
    const key = OUTCOME_OF[r.event];
    if (row && key) row[key] += r.count;
  }
  return rows;
}

/** The grand totals: counts from the hourly rows, bytes and distinct counts from the data. */
export function totals(data: ReportData, hourly: HourRow[]): ReportTotals {
  const sum = (key: keyof Omit<HourRow, 'hour'>) => hourly.reduce((n, h) => n + h[key], 0);
  const bytes = (event: string) => data.byHour.filter((r) => r.event === event).reduce((n, r) => n + r.bytes, 0);
  const count = (event: string) => data.byHour.filter((r) => r.event === event).reduce((n, r) => n + r.count, 0);
  return {
    received: sum('received'),
    delivered: sum('delivered'),
    posted: count('channel-sent'),
    deferred: data.deferredMessages,
    deferrals: sum('deferred'),
    bounced: sum('bounced'),
    rejected: sum('rejected'),
    held: count('held'),
    deleted: count('deleted'),
    notices: count('notice'),
    tests: count('test'),
    bytesReceived: bytes('received'),
    bytesDelivered: bytes('sent'),
    senders: data.senders.total,
    sendingHosts: data.sendingHosts,
    recipients: data.recipients.total,
    recipientDomains: data.recipients.domains,
  };
}

/** Problems per kind, most frequent first (ties by reason), as { reason, count } rows. */
export function problemGroups(rows: ReportData['problems']): DailyReport['problems'] {
  const of = (event: string): ReasonRow[] =>
    rows
      .filter((r) => r.event === event)
      .map((r) => ({ reason: r.reason, count: r.count }))
      .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
  return { deferred: of('deferred'), bounced: of('bounced'), rejected: of('rejected') };
}

/** Delays as whole milliseconds. */
export function domainRows(rows: DomainRow[]): DomainRow[] {
  return rows.map((d) => ({ ...d, avgDelayMs: d.avgDelayMs === null ? null : Math.round(d.avgDelayMs) }));
}

/** The whole report for a day. */
export function assembleReport(date: string, timezone: string, data: ReportData): DailyReport {
  const hourly = hourlyRows(data.byHour);
  return {
    date,
    timezone,
    totals: totals(data, hourly),
    hourly,
    domains: domainRows(data.domains),
    topSenders: data.senders.byCount,
    topRecipients: data.recipients.byCount,
    topSendersBySize: data.senders.bySize,
    topRecipientsBySize: data.recipients.bySize,
    problems: problemGroups(data.problems),
    channels: data.channels,
    warnings: data.warnings,
    errors: data.errors,
  };
}
