import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { sqlOf } from '../../src/database/sql.js';
import { EventLogService } from '../../src/events/event-log.service.js';
import type { IntakeService, Submission } from '../../src/intake/intake.service.js';
import { ReportMailer } from '../../src/reports/report-mailer.js';
import { ReportsRepository } from '../../src/reports/reports.repository.js';
import { ReportsService } from '../../src/reports/reports.service.js';
import { SettingsEntity } from '../../src/settings/settings.entity.js';
import type { SettingsService } from '../../src/settings/settings.service.js';

describe('ReportMailer (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  const submitted: Submission[] = [];
  let settings: Partial<SettingsEntity>;

  const mailer = () => {
    const fakeSettings = { get: async () => settings as SettingsEntity, heloName: async () => 'appliance.local' } as unknown as SettingsService;
    const fakeIntake = {
      submit: async (s: Submission) => {
        await new Promise((r) => setTimeout(r, 20));
        submitted.push(s);
        return `Q${submitted.length}`;
      },
    } as unknown as IntakeService;
    const sql = sqlOf(ds);
    return new ReportMailer(sql, fakeSettings, new ReportsService(new ReportsRepository(sql)), fakeIntake, new EventLogService(sql, silentLogger), silentLogger);
  };

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
  });
  afterAll(async () => close?.());

  it('does nothing while the daily report is off or before the chosen time', async () => {
    settings = { reportEnabled: false, reportTime: '07:00', adminAddress: 'admin@example.com', fromAddress: 'postroom@example.com', fromName: 'Postroom' };
    expect(await mailer().sendIfDue(new Date('2026-11-22T12:00:00Z'), 'UTC')).toBeNull();
    settings.reportEnabled = true;
    expect(await mailer().sendIfDue(new Date('2026-11-22T06:59:00Z'), 'UTC')).toBeNull();
    expect(submitted).toHaveLength(0);
  });

  it("mails yesterday's text report to the admin address once, even from two instances at once", async () => {
    const now = new Date('2026-11-22T07:00:30Z');
    const results = await Promise.all([mailer().sendIfDue(now, 'UTC'), mailer().sendIfDue(now, 'UTC')]);
    expect(results.sort()).toEqual(['2026-11-21', null]);
    expect(submitted).toHaveLength(1);
    const mail = submitted[0]!;
    expect(mail.recipients).toEqual(['admin@example.com']);
    expect(mail.envelopeFrom).toBe('postroom@example.com');
    const raw = mail.raw.toString();
    expect(raw).toMatch(/^Subject: Postroom report for 2026-11-21: 0 received, 0 delivered, 0 bounced$/m);
    expect(raw).toContain('Grand Totals');
    expect(await mailer().sendIfDue(new Date('2026-11-22T09:00:00Z'), 'UTC')).toBeNull();
    const events: { message: string }[] = await ds.query(`SELECT message FROM event ORDER BY id`);
    expect(events.map((e) => e.message)).toEqual(['Daily report for 2026-11-21 mailed to admin@example.com (Q1)']);
    // the next day, it is due again
    expect(await mailer().sendIfDue(new Date('2026-11-23T07:00:00Z'), 'UTC')).toBe('2026-11-22');
    expect(submitted).toHaveLength(2);
  });

  it('records a warning instead when no admin address is set', async () => {
    settings.adminAddress = '';
    expect(await mailer().sendIfDue(new Date('2026-11-24T08:00:00Z'), 'UTC')).toBeNull();
    expect(submitted).toHaveLength(2);
    const events: { level: string; message: string }[] = await ds.query(`SELECT level, message FROM event ORDER BY id DESC LIMIT 1`);
    expect(events[0]).toEqual({ level: 'warning', message: 'Daily report for 2026-11-23 not mailed: no admin address is set' });
  });

  it('mails the heartbeat alone when only it is on: "the mail path works" with yesterday\'s counts', async () => {
    settings = { ...settings, reportEnabled: false, heartbeatEnabled: true, adminAddress: 'admin@example.com' };
    expect(await mailer().sendIfDue(new Date('2026-11-25T07:01:00Z'), 'UTC')).toBe('2026-11-24');
    expect(submitted).toHaveLength(3);
    const raw = submitted[2]!.raw.toString().replace(/=\r\n/g, ''); // quoted-printable soft line breaks
    expect(raw).toMatch(/^Subject: Postroom heartbeat from appliance.local: the mail path works$/m);
    expect(raw).toContain('Yesterday (2026-11-24): 0 received, 0 delivered, 0 bounced.');
    expect(submitted[2]!.notice).toBe('report');
    const [last]: { message: string }[] = await ds.query(`SELECT message FROM event ORDER BY id DESC LIMIT 1`);
    expect(last!.message).toBe('Daily heartbeat for 2026-11-24 mailed to admin@example.com (Q3)');
  });
});
