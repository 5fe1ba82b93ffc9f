import { describe, expect, it } from 'vitest';
import { ReportData, assembleReport, hourlyRows, problemGroups, totals } from '../../src/reports/report-maths.js';

const data = (over: Partial<ReportData> = {}): ReportData => ({
  byHour: [],
  deferredMessages: 0,
  sendingHosts: 0,
  senders: { total: 0, byCount: [], bySize: [] },
  recipients: { total: 0, domains: 0, byCount: [], bySize: [] },
  domains: [],
  problems: [],
  channels: [],
  warnings: [],
  errors: [],
  ...over,
});

describe('report maths', () => {
  it('makes 24 hourly rows, mapping sent to delivered and ignoring unknown events and hours', () => {
    const rows = hourlyRows([
      { hour: 0, event: 'received', count: 3, bytes: 300 },
      { hour: 0, event: 'sent', count: 5, bytes: 500 },
      { hour: 13, event: 'deferred', count: 2, bytes: 20 },
      { hour: 23, event: 'bounced', count: 1, bytes: 10 },
      { hour: 23, event: 'rejected', count: 4, bytes: 0 },
      { hour: 24, event: 'received', count: 9, bytes: 9 },
      { hour: 5, event: 'other', count: 9, bytes: 9 },
    ]);
    expect(rows).toHaveLength(24);
    expect(rows[0]).toEqual({ hour: 0, received: 3, delivered: 5, deferred: 0, bounced: 0, rejected: 0 });
    expect(rows[13]).toEqual({ hour: 13, received: 0, delivered: 0, deferred: 2, bounced: 0, rejected: 0 });
    expect(rows[23]).toEqual({ hour: 23, received: 0, delivered: 0, deferred: 0, bounced: 1, rejected: 4 });
    expect(rows[5]).toEqual({ hour: 5, received: 0, delivered: 0, deferred: 0, bounced: 0, rejected: 0 });
  });

  it('sums the hours into totals; bytes delivered count a message once per recipient delivered; channel posts only in posted', () => {
    const d = data({
      byHour: [
        { hour: 1, event: 'received', count: 2, bytes: 3000 },
        { hour: 2, event: 'received', count: 1, bytes: 500 },
        { hour: 2, event: 'sent', count: 3, bytes: 4500 },
        { hour: 3, event: 'deferred', count: 4, bytes: 999 },
        { hour: 3, event: 'held', count: 7, bytes: 70 },
        { hour: 4, event: 'deleted', count: 2, bytes: 20 },
        { hour: 4, event: 'notice', count: 5, bytes: 5000 },
        { hour: 5, event: 'test', count: 1, bytes: 0 },
        // a channel's outcomes: posted, and in no mail total
        { hour: 2, event: 'channel-sent', count: 6, bytes: 6000 },
        { hour: 3, event: 'channel-deferred', count: 2, bytes: 2000 },
        { hour: 3, event: 'channel-bounced', count: 1, bytes: 1000 },
      ],
      deferredMessages: 2,
      sendingHosts: 1,
      senders: { total: 2, byCount: [], bySize: [] },
      recipients: { total: 3, domains: 2, byCount: [], bySize: [] },
    });
    expect(totals(d, hourlyRows(d.byHour))).toEqual({
      received: 3, delivered: 3, posted: 6, deferred: 2, deferrals: 4, bounced: 0, rejected: 0, held: 7, deleted: 2, notices: 5, tests: 1,
      bytesReceived: 3500, bytesDelivered: 4500, senders: 2, sendingHosts: 1, recipients: 3, recipientDomains: 2,
    });
  });

  it('groups problems per kind, most frequent first, ties by reason', () => {
    expect(
      problemGroups([
        { event: 'deferred', reason: 'b', count: 1 },
        { event: 'deferred', reason: 'a', count: 1 },
        { event: 'deferred', reason: 'c', count: 5 },
        { event: 'rejected', reason: 'size', count: 2 },
      ]),
    ).toEqual({ deferred: [{ reason: 'c', count: 5 }, { reason: 'a', count: 1 }, { reason: 'b', count: 1 }], bounced: [], rejected: [{ reason: 'size', count: 2 }] });
  });

  it('rounds average delays to whole milliseconds and keeps null for no deliveries', () => {
    const r = assembleReport('2026-11-22', 'UTC', data({
      domains: [
        { domain: 'a.example', sent: 3, bytes: 1, deferrals: 0, avgDelayMs: 22333.333, maxDelayMs: 60000 },
        { domain: 'b.example', sent: 0, bytes: 0, deferrals: 2, avgDelayMs: null, maxDelayMs: null },
      ],
    }));
    expect(r.domains.map((d) => d.avgDelayMs)).toEqual([22333, null]);
    expect(Object.keys(r)).toEqual(['date', 'timezone', 'totals', 'hourly', 'domains', 'topSenders', 'topRecipients', 'topSendersBySize', 'topRecipientsBySize', 'problems', 'channels', 'warnings', 'errors']);
  });
});
