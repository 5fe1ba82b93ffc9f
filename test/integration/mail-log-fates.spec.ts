import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntakeService, Submission } from '../../src/intake/intake.service.js';
import { LocalMailService } from '../../src/intake/local-mail.service.js';
import type { MailLogView } from '../../src/mail-log/mail-log.service.js';
import { ReportsRepository } from '../../src/reports/reports.repository.js';
import { ReportsService } from '../../src/reports/reports.service.js';
import type { SettingsEntity } from '../../src/settings/settings.entity.js';
import type { SettingsService } from '../../src/settings/settings.service.js';
import { StormService } from '../../src/storm/storm.service.js';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { queueServices } from './support.js';

/**
 * Every fate of a message in the mail log, written with its state change, on a real
 * PostgreSQL: storm holds and their digest, an operator's hold, release and deletes (one, bulk,
 * the whole queue), local mail waiting for an admin address; Postroom's own mail marked as a
 * notice; and the day's report counting exactly those lines.
 */
describe('mail log: holds, releases, deletions, digests, notices, and the report (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let services: ReturnType<typeof queueServices>;
  let intake: IntakeService;
  let localMail: LocalMailService;
  let storm: StormService;
  let reports: ReportsService;
  let settings: Partial<SettingsEntity>;

  const raw = (subject: string) => Buffer.from(`From: zfs@nas.example.com\r\nTo: ops@example.com\r\nSubject: ${subject}\r\n\r\nbody\r\n`);
  const smtp = (subject: string, recipients = ['ops@example.com']): Submission => ({
    envelopeFrom: 'zfs@nas.example.com',
    recipients,
    raw: raw(subject),
    client: { address: '127.0.0.1', protocol: 'ESMTP' },
  });
  const story = async (id: string): Promise<MailLogView[]> => services.mailLog.story(id);
  const today = () => new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    services = queueServices(ds);
    settings = {
      fromName: 'NAS',
      fromAddress: 'nas@example.com',
      adminAddress: 'admin@example.com',
      rewriteFrom: false,
      hostname: 'nas.example.com',
      delayWarningHours: 0,
      aliases: {},
      stormMaxDuplicates: 2,
      stormWindowMinutes: 10,
      senderRateLimitPerMinute: 0,
    };
    const fakeSettings = { get: async () => settings as SettingsEntity, heloName: async () => 'nas.example.com' } as unknown as SettingsService;
    storm = new StormService(silentLogger, services.sql, services.repo, services.writer, fakeSettings);
    localMail = new LocalMailService(services.sql, silentLogger, fakeSettings, services.repo, services.events, services.notifier, services.mailLog, storm);
    intake = new IntakeService(services.queue, fakeSettings, localMail, storm, services.rules, silentLogger);
    reports = new ReportsService(new ReportsRepository(services.sql));
  });

  afterAll(async () => {
    await close?.();
  });

  it('writes each fate with its state change, and the report counts held, deleted, notices and tests exactly', async () => {
    // Four identical alerts: two go through, two are held back for a digest.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await intake.submit(smtp('Pool degraded')));
    const [a, b, s1, s2] = ids as [string, string, string, string];
    expect((await story(s1)).map((l) => [l.event, l.detail])).toEqual([
      ['received', null],
      ['held', 'storm duplicate'],
    ]);

    // The operator: a hold, a release and a delete of one message; a bulk delete of another.
    await services.queue.holdOne(a, 'admin');
    await services.queue.releaseOne(a, 'api');
    await services.queue.deleteOne(a, 'cli');
    expect(await services.queue.bulk('delete', [b], 'admin')).toEqual({ count: 1, ids: [b] });
    const storyA = await story(a);
    expect(storyA.map((l) => [l.event, l.detail])).toEqual([
      ['received', null],
      ['held', 'operator'],
      ['released', 'api'],
      ['deleted', 'cli'],
    ]);
    expect(storyA[1]).toMatchObject({ reply: 'put on hold by admin', to: 'ops@example.com', subject: 'Pool degraded', size: storyA[0]!.size });
    expect((await story(b)).at(-1)).toMatchObject({ event: 'deleted', detail: 'admin' });

    // The digest absorbs the two held messages: each one's story ends with the digest's queue id.
    const [digest] = await storm.sendDueDigests(new Date(Date.now() + 11 * 60_000));
    expect(digest).toBeDefined();
    for (const id of [s1, s2]) {
      expect((await story(id)).map((l) => [l.event, l.detail, l.reply]).at(-1)).toEqual(['digested', 'storm duplicate', digest]);
    }
    expect((await story(digest!))[0]).toMatchObject({ event: 'received', notice: 'digest' });

    // Postroom's own mail: a delivery status notice (as BounceNotifier submits it) and the daily report.
    const dsn = await intake.submit({ envelopeFrom: '', recipients: ['zfs@nas.example.com'], raw: raw('Undelivered Mail Returned to Sender'), client: { address: null, protocol: 'local' }, notice: 'dsn' });
    const report = await intake.submit({ envelopeFrom: 'nas@example.com', recipients: ['admin@example.com'], raw: raw('Postroom report'), client: { address: null, protocol: 'local' }, notice: 'report' });
    expect((await story(dsn))[0]!.notice).toBe('dsn');
    expect((await story(report))[0]!.notice).toBe('report');
    // A maildrop submission (a local user) with the null sender is traffic, not a notice.
    const dropped = await intake.submit({ envelopeFrom: '', recipients: ['ops@example.com'], raw: raw('cron output'), client: { address: null, protocol: 'local', uid: 0 } });
    expect((await story(dropped))[0]!.notice).toBeNull();

    // Local mail with nowhere to go waits on hold, and is released once an admin address is set.
    settings.adminAddress = '';
    const local = await intake.submit(smtp('for root', ['root']));
    settings.adminAddress = 'admin@example.com';
    await localMail.releaseResolvable();
    expect((await story(local)).map((l) => [l.event, l.detail])).toEqual([
      ['received', null],
      ['held', 'local mail waiting for an admin address'],
      ['released', 'Postroom'],
    ]);

    // The whole queue deleted: the digest, the two notices, the maildrop message and the local one.
    expect(await services.queue.deleteAll('admin')).toEqual({ count: 5 });
    for (const id of [digest!, dsn, report, dropped, local]) expect((await story(id)).at(-1)).toMatchObject({ event: 'deleted', detail: 'admin' });

    // Test emails as the test email logs them today (no queue id, its subject), and as the event 'test'.
    const testLine = { queueId: null, messageId: null, sender: 'nas@example.com', recipient: 'ops@example.com', size: 0, subject: 'Postroom test email' };
    await services.mailLog.append([
      { ...testLine, event: 'sent', reply: '250 2.0.0 Ok' },
      { ...testLine, event: 'deferred', reply: '535 5.7.8 Authentication failed' },
      { ...testLine, event: 'test', reply: '250 2.0.0 Ok' },
    ]);

    const r = await reports.report(today(), 'UTC');
    expect(r.totals).toMatchObject({
      received: 6, // four alerts, the maildrop message, the local one
      notices: 3, // the digest, the delivery status notice, the daily report
      held: 4, // two storm holds, the operator's, the local one
      deleted: 7, // one, one in bulk, five with the whole queue
      tests: 3,
      delivered: 0,
      deferred: 0,
      deferrals: 0,
      rejected: 0,
      recipients: 0,
      senders: 2, // the alerts' sender and the null sender of the maildrop message; not the notices'
    });
    expect(r.problems.deferred).toEqual([]);
    expect(r.hourly.reduce((n, h) => n + h.received, 0)).toBe(6);
  });

  it('accepts the new events in the mail-log filter', async () => {
    for (const event of ['held', 'released', 'deleted', 'digested', 'test'] as const) {
      const page = await services.mailLog.list({ event, limit: 50 });
      expect(page.items.length, event).toBeGreaterThan(0);
      expect(page.items.every((l) => l.event === event)).toBe(true);
    }
  });
});
