import { describe, expect, it } from 'vitest';
import { delay, formatReportText } from '../../src/reports/report-text.js';
import type { DailyReport } from '../../src/reports/report.types.js';

function sampleReport(): DailyReport {
  const hourly = Array.from({ length: 24 }, (_, hour) => ({ hour, received: 0, delivered: 0, deferred: 0, bounced: 0, rejected: 0 }));
  hourly[0] = { hour: 0, received: 1, delivered: 2, deferred: 1, bounced: 0, rejected: 0 };
  hourly[23] = { hour: 23, received: 3, delivered: 2, deferred: 2, bounced: 1, rejected: 3 };
  return {
    date: '2026-11-22',
    timezone: 'Asia/Kolkata',
    totals: { received: 4, delivered: 4, posted: 6, deferred: 2, deferrals: 3, bounced: 1, rejected: 3, held: 4, deleted: 2, notices: 5, tests: 1, bytesReceived: 7500, bytesDelivered: 12499, senders: 3, sendingHosts: 2, recipients: 3, recipientDomains: 2 },
    hourly,
    domains: [
      { domain: 'b.example', sent: 3, bytes: 11499, deferrals: 1, avgDelayMs: 22333, maxDelayMs: 60000 },
      { domain: 'c.example', sent: 0, bytes: 0, deferrals: 2, avgDelayMs: null, maxDelayMs: null },
    ],
    topSenders: [{ address: 'alice@a.example', count: 2, bytes: 3000 }, { address: '', count: 1, bytes: 500 }],
    topRecipients: [{ address: 'bob@b.example', count: 2, bytes: 1500 }],
    topSendersBySize: [{ address: 'eve@e.example', count: 1, bytes: 4000 }],
    topRecipientsBySize: [{ address: 'x@b.example', count: 1, bytes: 9999 }],
    problems: {
      deferred: [{ reason: '451 4.7.1 Greylisted', count: 2 }],
      bounced: [{ reason: '550 5.1.1 No such user\r\nmore', count: 1 }],
      rejected: [],
    },
    channels: [
      { id: 3, name: 'ntfy phone', posted: 5, deferrals: 2, failed: 0, problem: 'HTTP 503\nService Unavailable' },
      { id: 12, name: 'team chat', posted: 1, deferrals: 0, failed: 0, problem: null },
    ],
    warnings: [{ id: '7', at: '2026-11-22T07:00:00.000Z', source: 'delivery', message: 'Relay unreachable' }],
    errors: [],
  };
}

describe('formatReportText', () => {
  const text = formatReportText(sampleReport());
  const lines = text.split('\n');

  it('has the pflogsumm headings, in order, each underlined', () => {
    const headings = ['Grand Totals', 'Per-Hour Traffic Summary', 'Host/Domain Summary: Message Delivery', 'Senders by message count', 'Recipients by message count', 'Senders by message size', 'Recipients by message size', 'Notification Channels', 'message deferral detail', 'message bounce detail', 'message reject detail', 'Warnings', 'Errors'];
    let last = -1;
    for (const h of headings) {
      const i = lines.indexOf(h);
      expect(i, h).toBeGreaterThan(last);
      expect(lines[i + 1]).toBe('-'.repeat(h.length));
      last = i;
    }
    expect(lines[0]).toBe('Postroom report for 2026-11-22 (Asia/Kolkata)');
  });

  it('prints every grand total, exact bytes included', () => {
    for (const line of [
      '       4   received',
      '       4   delivered',
      '       6   posted to notification channels  (in no other total)',
      '       2   deferred  (3 deferrals)',
      '       1   bounced',
      '       3   rejected',
      '       4   held',
      '       2   deleted',
      "       5   notices  (Postroom's own: bounces, delay warnings, digests, reports, alarms)",
      '       1   test emails',
      '    7500   bytes received',
      '   12499   bytes delivered',
      '       3   senders',
      '       2   sending hosts',
      '       3   recipients',
      '       2   recipient domains',
    ])
      expect(lines).toContain(line);
  });

  it('prints 24 hour rows with the five counts', () => {
    const hours = lines.filter((l) => /^ {4}\d{4}-\d{4} /.test(l));
    expect(hours).toHaveLength(24);
    expect(hours[0]!.trim().split(/\s+/)).toEqual(['0000-0100', '1', '2', '1', '0', '0']);
    expect(hours[23]!.trim().split(/\s+/)).toEqual(['2300-0000', '3', '2', '2', '1', '3']);
  });

  it('prints domains, top lists, problems and events; the null sender as <>, reasons on one line', () => {
    expect(lines).toContain('       3        11499       1    22.3 s     1.0 m  b.example');
    expect(lines).toContain('       0            0       2         -         -  c.example');
    expect(lines).toContain('       2   alice@a.example');
    expect(lines).toContain('       1   <>');
    expect(lines).toContain('        4000   eve@e.example');
    expect(lines).toContain('        9999   x@b.example');
    expect(lines).toContain('       5       2       0  ntfy phone  (HTTP 503 Service Unavailable)');
    expect(lines).toContain('       1       0       0  team chat');
    expect(lines).toContain('       2   451 4.7.1 Greylisted');
    expect(lines).toContain('       1   550 5.1.1 No such user more');
    expect(lines).toContain('  2026-11-22T07:00:00.000Z  delivery: Relay unreachable');
    const reject = lines.indexOf('message reject detail');
    expect(lines[reject + 2]).toBe('none');
    expect(lines[lines.indexOf('Errors') + 2]).toBe('none');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('writes delays in s, m, h and d', () => {
    expect([delay(null), delay(1500), delay(90_000), delay(7_200_000), delay(172_800_000)]).toEqual(['-', '1.5 s', '1.5 m', '2.0 h', '2.0 d']);
  });
});
