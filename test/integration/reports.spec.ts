import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { sqlOf } from '../../src/database/sql.js';
import { EventLogService, NewEvent } from '../../src/events/event-log.service.js';
import { MailLogService, NewMailLogEntry } from '../../src/mail-log/mail-log.service.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { resolveReportDay } from '../../src/reports/report-date.js';
import { formatReportText } from '../../src/reports/report-text.js';
import type { HourRow } from '../../src/reports/report.types.js';
import { ReportsRepository } from '../../src/reports/reports.repository.js';
import { ReportsService } from '../../src/reports/reports.service.js';

/** A zone with a half-hour offset (UTC+05:30, no DST): an hour bucket taken in UTC would be wrong. */
const TZ = 'Asia/Kolkata';
const OFFSET_MS = 5.5 * 3600_000;
const DAY = '2026-11-22';

/** The instant of a local wall-clock time in TZ. */
function local(date: string, time: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm, ss = 0] = time.split(':').map(Number) as [number, number, number?];
  return new Date(Date.UTC(y, m - 1, d, hh, mm, ss) - OFFSET_MS);
}

const received = (at: Date, queueId: string, sender: string, recipients: string[], size: number, clientAddress: string | null): NewMailLogEntry => ({
  at,
  queueId,
  messageId: `<${queueId}@test>`,
  event: 'received',
  sender,
  recipient: recipients.join(', '),
  size,
  clientAddress,
  subject: `Message ${queueId}`,
});

const outcome = (at: Date, event: 'sent' | 'deferred' | 'bounced', queueId: string, sender: string, recipient: string, size: number, delayMs: number, attempt: number, reply: string): NewMailLogEntry => ({
  at,
  queueId,
  messageId: `<${queueId}@test>`,
  event,
  sender,
  recipient,
  relay: 'relay.example[192.0.2.1]:587',
  size,
  delayMs,
  attempt,
  reply,
});

const rejected = (at: Date, reply: string): NewMailLogEntry => ({ at, queueId: null, messageId: null, event: 'rejected', sender: 'spam@s.example', recipient: 'u@b.example', size: 0, reply, clientAddress: '10.0.0.9' });

const fate = (at: Date, event: 'held' | 'released', queueId: string, detail: string): NewMailLogEntry => ({
  at,
  queueId,
  messageId: `<${queueId}@test>`,
  event,
  sender: 'ops@a.example',
  recipient: 'x@b.example',
  size: 100,
  detail,
});

/** A notification channel's line: a routing rule's copy of the message, delivered to channel:<id> (relay: the channel's name). */
const channelLine = (at: Date, event: 'sent' | 'deferred' | 'bounced', queueId: string, channelId: number, name: string, reply: string): NewMailLogEntry => ({
  ...outcome(at, event, queueId, 'alice@a.example', `channel:${channelId}`, 1000, 1000, 1, reply),
  relay: name,
});

const zeroHour = (hour: number): HourRow => ({ hour, received: 0, delivered: 0, deferred: 0, bounced: 0, rejected: 0 });

describe('ReportsService (real PostgreSQL, rows written through MailLogService and EventLogService)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let reports: ReportsService;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    const mailLog = new MailLogService(sqlOf(ds), new MetricsService(silentLogger));
    const events = new EventLogService(sqlOf(ds), silentLogger);
    reports = new ReportsService(new ReportsRepository(sqlOf(ds)));

    const prev = '2026-11-21';
    const next = '2026-11-23';
    await mailLog.append([
      // the day before, one second before midnight; its delivery falls on DAY
      received(local(prev, '23:59:59'), 'M0', 'zed@z.example', ['x@b.example'], 9999, '10.0.0.5'),
      outcome(local(DAY, '00:00:01'), 'sent', 'M0', 'zed@z.example', 'x@b.example', 9999, 2000, 1, '250 2.0.0 Ok: queued as A'),
      // DAY, starting exactly at midnight
      received(local(DAY, '00:00:00'), 'M1', 'alice@a.example', ['bob@b.example', 'carol@c.example'], 1000, '10.0.0.1'),
      outcome(local(DAY, '00:00:05'), 'sent', 'M1', 'alice@a.example', 'bob@b.example', 1000, 5000, 1, '250 2.0.0 Ok: queued as B'),
      outcome(local(DAY, '00:00:06'), 'deferred', 'M1', 'alice@a.example', 'carol@c.example', 1000, 6000, 1, '451 4.7.1 Greylisted'),
      outcome(local(DAY, '01:00:06'), 'deferred', 'M1', 'alice@a.example', 'carol@c.example', 1000, 3606000, 2, '451 4.7.1 Greylisted'),
      outcome(local(DAY, '02:00:06'), 'sent', 'M1', 'alice@a.example', 'carol@c.example', 1000, 7206000, 3, '250 2.0.0 Ok: queued as C'),
      received(local(DAY, '09:15:00'), 'M2', 'Alice@A.example', ['dave@b.example'], 2000, '10.0.0.2'),
      outcome(local(DAY, '09:16:00'), 'deferred', 'M2', 'Alice@A.example', 'dave@b.example', 2000, 60000, 1, '421 4.4.2 Connection timed out'),
      outcome(local(DAY, '10:00:00'), 'bounced', 'M2', 'Alice@A.example', 'dave@b.example', 2000, 2700000, 2, '550 5.1.1 No such user'),
      received(local(DAY, '09:45:00'), 'M3', '', ['bob@b.example'], 500, '10.0.0.1'),
      outcome(local(DAY, '09:46:00'), 'sent', 'M3', '', 'Bob@B.example', 500, 60000, 1, '250 2.0.0 Ok: queued as D'),
      rejected(local(DAY, '10:30:00'), 'message size exceeds the limit'),
      rejected(local(DAY, '10:31:00'), 'message size exceeds the limit'),
      rejected(local(DAY, '11:00:00'), '550 5.7.1 Relaying denied'),
      // one second before the next midnight; its deferral falls on the next day
      received(local(DAY, '23:59:59'), 'M4', 'eve@e.example', ['frank@c.example'], 4000, null),
      outcome(local(next, '00:00:10'), 'deferred', 'M4', 'eve@e.example', 'frank@c.example', 4000, 11000, 1, '451 4.3.0 Try later'),
      // the next day, exactly at midnight
      received(local(next, '00:00:00'), 'M5', 'zed@z.example', ['y@b.example'], 7777, '10.0.0.5'),
      // holds are counted from the mail log's 'held' lines: one, then three in a bulk hold; a release is not a hold
      fate(local(DAY, '12:00:00'), 'held', 'M9', 'operator'),
      ...['a', 'b', 'c'].map((id) => fate(local(DAY, '13:00:00'), 'held', id, 'operator')),
      fate(local(DAY, '14:00:00'), 'released', 'M9', 'admin'),
      fate(local(next, '08:00:00'), 'held', 'M5', 'operator'),
      // copies to notification channels: in no mail total, list or problem, in posted and channels only
      channelLine(local(DAY, '00:00:07'), 'sent', 'M1', 7, 'ntfy phone', '200 OK'),
      channelLine(local(DAY, '09:16:00'), 'deferred', 'M2', 7, 'ntfy phone', 'HTTP 503 Service Unavailable'),
      channelLine(local(DAY, '09:17:00'), 'deferred', 'M2', 7, 'ntfy phone', 'HTTP 503 Service Unavailable'),
      channelLine(local(DAY, '09:18:00'), 'deferred', 'M2', 7, 'ntfy phone', 'connection refused'),
      channelLine(local(DAY, '09:30:00'), 'sent', 'M2', 7, 'phone (renamed)', '200 OK'),
      channelLine(local(DAY, '10:00:00'), 'bounced', 'M2', 9, 'old webhook', 'HTTP 404 Not Found'),
      channelLine(local(next, '00:00:11'), 'sent', 'M4', 7, 'phone (renamed)', '200 OK'),
    ]);

    const at = async (when: Date, e: NewEvent) => {
      await events.record(e);
      await ds.query(`UPDATE event SET at = $1 WHERE id = (SELECT max(id) FROM event)`, [when]);
    };
    await at(local(prev, '23:00:00'), { level: 'warning', source: 'delivery', message: 'Yesterday warning' });
    await at(local(DAY, '12:00:00'), { level: 'info', source: 'queue', message: 'Message M9 put on hold by admin', details: { actor: 'admin', id: 'M9', action: 'hold', count: 1 } });
    await at(local(DAY, '12:30:00'), { level: 'warning', source: 'delivery', message: 'Relay unreachable' });
    await at(local(DAY, '13:00:00'), { level: 'info', source: 'queue', message: '3 selected message(s) put on hold by admin', details: { actor: 'admin', action: 'hold', count: 3, ids: ['a', 'b', 'c'] } });
    await at(local(DAY, '14:00:00'), { level: 'info', source: 'queue', message: 'Message M9 released from hold by admin', details: { actor: 'admin', id: 'M9', action: 'release', count: 1 } });
    await at(local(DAY, '14:30:00'), { level: 'info', source: 'queue', message: 'Queue flushed by admin: 2 message(s) due now', details: { actor: 'admin', count: 2 } });
    await at(local(DAY, '15:00:00'), { level: 'error', source: 'system', message: 'Database connection lost' });
    await at(local(next, '08:00:00'), { level: 'info', source: 'queue', message: 'Message M5 put on hold by api', details: { actor: 'api', id: 'M5', action: 'hold', count: 1 } });
  });

  afterAll(async () => {
    await close?.();
  });

  it('counts every total of the day exactly, by the rules of PRODUCT §10', async () => {
    const r = await reports.report(DAY, TZ);
    expect(r.date).toBe(DAY);
    expect(r.timezone).toBe(TZ);
    expect(r.totals).toEqual({
      received: 4, // M1-M4: not M0 (the day before) nor M5 (the day after)
      delivered: 4, // recipients: x (M0's, delivered on DAY), bob, carol, bob
      deferred: 2, // messages M1 and M2
      deferrals: 3, // carol twice, dave once (frank's falls on the next day)
      bounced: 1,
      rejected: 3,
      held: 4, // one, then three in one bulk hold; not the release, not the next day's
      deleted: 0,
      notices: 0,
      tests: 0,
      bytesReceived: 1000 + 2000 + 500 + 4000,
      bytesDelivered: 9999 + 1000 + 1000 + 500,
      senders: 3, // alice (either case), the null sender, eve
      sendingHosts: 2, // 10.0.0.1, 10.0.0.2 (M4 came through the API: no client address)
      recipients: 3, // bob (either case), carol, x
      recipientDomains: 2, // b.example, c.example
      posted: 2, // the channel copies of M1 and M2
    });
  });

  it('lists the notification channels apart: posts, deferrals, failures, the most frequent problem, the latest name', async () => {
    const r = await reports.report(DAY, TZ);
    expect(r.channels).toEqual([
      { id: 7, name: 'phone (renamed)', posted: 2, deferrals: 3, failed: 0, problem: 'HTTP 503 Service Unavailable' },
      { id: 9, name: 'old webhook', posted: 0, deferrals: 0, failed: 1, problem: 'HTTP 404 Not Found' },
    ]);
    const text = formatReportText(r).split('\n');
    expect(text).toContain('       2   posted to notification channels  (in no other total)');
    expect(text).toContain('       2       3       0  phone (renamed)  (HTTP 503 Service Unavailable)');
  });

  it('splits the day into 24 local hours, midnight to midnight', async () => {
    const r = await reports.report(DAY, TZ);
    const expected = Array.from({ length: 24 }, (_, h) => zeroHour(h));
    expected[0] = { hour: 0, received: 1, delivered: 2, deferred: 1, bounced: 0, rejected: 0 };
    expected[1] = { hour: 1, received: 0, delivered: 0, deferred: 1, bounced: 0, rejected: 0 };
    expected[2] = { hour: 2, received: 0, delivered: 1, deferred: 0, bounced: 0, rejected: 0 };
    expected[9] = { hour: 9, received: 2, delivered: 1, deferred: 1, bounced: 0, rejected: 0 };
    expected[10] = { hour: 10, received: 0, delivered: 0, deferred: 0, bounced: 1, rejected: 2 };
    expected[11] = { hour: 11, received: 0, delivered: 0, deferred: 0, bounced: 0, rejected: 1 };
    expected[23] = { hour: 23, received: 1, delivered: 0, deferred: 0, bounced: 0, rejected: 0 };
    expect(r.hourly).toEqual(expected);
  });

  it('lists delivery by recipient domain with bytes, deferrals and delays', async () => {
    const r = await reports.report(DAY, TZ);
    expect(r.domains).toEqual([
      { domain: 'b.example', sent: 3, bytes: 9999 + 1000 + 500, deferrals: 1, avgDelayMs: Math.round((2000 + 5000 + 60000) / 3), maxDelayMs: 60000 },
      { domain: 'c.example', sent: 1, bytes: 1000, deferrals: 2, avgDelayMs: 7206000, maxDelayMs: 7206000 },
    ]);
  });

  it('ranks senders and recipients by message count and by size', async () => {
    const r = await reports.report(DAY, TZ);
    expect(r.topSenders).toEqual([
      { address: 'alice@a.example', count: 2, bytes: 3000 },
      { address: 'eve@e.example', count: 1, bytes: 4000 },
      { address: '', count: 1, bytes: 500 },
    ]);
    expect(r.topSendersBySize).toEqual([
      { address: 'eve@e.example', count: 1, bytes: 4000 },
      { address: 'alice@a.example', count: 2, bytes: 3000 },
      { address: '', count: 1, bytes: 500 },
    ]);
    expect(r.topRecipients).toEqual([
      { address: 'bob@b.example', count: 2, bytes: 1500 },
      { address: 'x@b.example', count: 1, bytes: 9999 },
      { address: 'carol@c.example', count: 1, bytes: 1000 },
    ]);
    expect(r.topRecipientsBySize).toEqual([
      { address: 'x@b.example', count: 1, bytes: 9999 },
      { address: 'bob@b.example', count: 2, bytes: 1500 },
      { address: 'carol@c.example', count: 1, bytes: 1000 },
    ]);
  });

  it('keeps only the top N rows when asked for fewer', async () => {
    const r = await reports.report(DAY, TZ, 1);
    expect(r.topSenders).toEqual([{ address: 'alice@a.example', count: 2, bytes: 3000 }]);
    expect(r.topRecipientsBySize).toEqual([{ address: 'x@b.example', count: 1, bytes: 9999 }]);
    expect(r.totals.senders).toBe(3);
  });

  it('groups deferrals, bounces and rejections by reason, and lists the warnings and errors', async () => {
    const r = await reports.report(DAY, TZ);
    expect(r.problems).toEqual({
      deferred: [
        { reason: '451 4.7.1 Greylisted', count: 2 },
        { reason: '421 4.4.2 Connection timed out', count: 1 },
      ],
      bounced: [{ reason: '550 5.1.1 No such user', count: 1 }],
      rejected: [
        { reason: 'message size exceeds the limit', count: 2 },
        { reason: '550 5.7.1 Relaying denied', count: 1 },
      ],
    });
    expect(r.warnings.map((e) => ({ at: e.at, source: e.source, message: e.message }))).toEqual([{ at: local(DAY, '12:30:00').toISOString(), source: 'delivery', message: 'Relay unreachable' }]);
    expect(r.errors.map((e) => ({ at: e.at, source: e.source, message: e.message }))).toEqual([{ at: local(DAY, '15:00:00').toISOString(), source: 'system', message: 'Database connection lost' }]);
  });

  it('puts 23:59:59 on the day before and 00:00:00 on the day after, in the local time zone', async () => {
    const before = await reports.report('2026-11-21', TZ);
    expect(before.totals).toMatchObject({ received: 1, delivered: 0, bytesReceived: 9999, senders: 1, sendingHosts: 1 });
    expect(before.hourly[23]).toEqual({ hour: 23, received: 1, delivered: 0, deferred: 0, bounced: 0, rejected: 0 });
    expect(before.warnings.map((e) => e.message)).toEqual(['Yesterday warning']);

    const after = await reports.report('2026-11-23', TZ);
    expect(after.totals).toMatchObject({ received: 1, deferred: 1, deferrals: 1, held: 1, bytesReceived: 7777 });
    expect(after.hourly[0]).toEqual({ hour: 0, received: 1, delivered: 0, deferred: 1, bounced: 0, rejected: 0 });
    expect(after.problems.deferred).toEqual([{ reason: '451 4.3.0 Try later', count: 1 }]);

    // The same rows read in UTC fall on other days and hours: the zone is the service's argument.
    const utc = await reports.report(DAY, 'UTC');
    expect(utc.totals.received).toBe(4); // M2-M5: M1 (18:30 UTC on the 21st) belongs to the 21st in UTC, M5 (18:30 UTC on the 22nd) to the 22nd
    expect(utc.hourly[18]!.received).toBe(2); // M4 at 18:29:59 and M5 at 18:30:00 UTC
  });

  it("reports yesterday and today by the local calendar, not by UTC's", async () => {
    // 03:00 on the 23rd in Kolkata is still the 22nd in UTC.
    const now = local('2026-11-23', '03:00:00');
    expect(resolveReportDay('today', TZ, now)).toBe('2026-11-23');
    expect(resolveReportDay('yesterday', TZ, now)).toBe(DAY);
    const yesterday = await reports.report(resolveReportDay('yesterday', TZ, now)!, TZ);
    const today = await reports.report(resolveReportDay('today', TZ, now)!, TZ);
    expect(yesterday.totals.received).toBe(4);
    expect(today.totals.received).toBe(1);
    expect(today.date).toBe('2026-11-23');
  });

  it('reports an empty day with zeros, 24 empty hours and empty lists', async () => {
    const r = await reports.report('2026-11-15', TZ);
    expect(r).toEqual({
      date: '2026-11-15',
      timezone: TZ,
      totals: { received: 0, delivered: 0, posted: 0, deferred: 0, deferrals: 0, bounced: 0, rejected: 0, held: 0, deleted: 0, notices: 0, tests: 0, bytesReceived: 0, bytesDelivered: 0, senders: 0, sendingHosts: 0, recipients: 0, recipientDomains: 0 },
      hourly: Array.from({ length: 24 }, (_, h) => zeroHour(h)),
      domains: [],
      topSenders: [],
      topRecipients: [],
      topSendersBySize: [],
      topRecipientsBySize: [],
      problems: { deferred: [], bounced: [], rejected: [] },
      channels: [],
      warnings: [],
      errors: [],
    });
    expect(formatReportText(r)).toContain('       0   received');
  });

  it('counts a 23-hour day (DST starts) without losing or doubling an hour', async () => {
    const mailLog = new MailLogService(sqlOf(ds), new MetricsService(silentLogger));
    // New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT. 01:59:59 EST = 06:59:59Z, 03:00 EDT = 07:00Z.
    await mailLog.append([
      received(new Date('2026-03-08T05:00:00Z'), 'D1', 'dst@x.example', ['r@y.example'], 10, null), // 00:00 EST
      received(new Date('2026-03-08T06:59:59Z'), 'D2', 'dst@x.example', ['r@y.example'], 10, null), // 01:59:59 EST
      received(new Date('2026-03-08T07:00:00Z'), 'D3', 'dst@x.example', ['r@y.example'], 10, null), // 03:00 EDT
      received(new Date('2026-03-09T03:59:59Z'), 'D4', 'dst@x.example', ['r@y.example'], 10, null), // 23:59:59 EDT
      received(new Date('2026-03-09T04:00:00Z'), 'D5', 'dst@x.example', ['r@y.example'], 10, null), // the 9th, 00:00 EDT
    ]);
    const r = await reports.report('2026-03-08', 'America/New_York');
    expect(r.totals.received).toBe(4);
    expect(r.hourly.map((h) => h.received)).toEqual([1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });
});
