import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { sqlOf } from '../../src/database/sql.js';
import { EventLogService } from '../../src/events/event-log.service.js';
import { MailLogService } from '../../src/mail-log/mail-log.service.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { RetentionService } from '../../src/retention/retention.service.js';
import type { SettingsService } from '../../src/settings/settings.service.js';
import { count } from './support.js';

const DAY = 86_400_000;

describe('Retention: mail log and events older than the setting are purged', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let retention: RetentionService;
  let days = 90;
  const now = new Date('2026-11-20T03:00:00Z');

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    const settings = { get: async () => ({ retentionDays: days }) } as unknown as SettingsService;
    const sql = sqlOf(ds);
    retention = new RetentionService(sql, settings, new MailLogService(sql, new MetricsService(silentLogger)), new EventLogService(sql, silentLogger), silentLogger);
  });

  afterAll(async () => {
    await close?.();
  });

  /** n rows in each log, `age` before `now`, with a marker in the text. */
  async function seed(n: number, ageMs: number, marker: string): Promise<void> {
    const at = new Date(now.getTime() - ageMs);
    await ds.query(
      `INSERT INTO mail_log (at, queue_id, message_id, event, sender, recipient, size, reply)
       SELECT $1, NULL, NULL, 'received', 'a@example.com', 'b@example.com', 1, $2 FROM generate_series(1, $3)`,
      [at, marker, n],
    );
    await ds.query(`INSERT INTO event (at, level, source, message) SELECT $1, 'info', 'system', $2 FROM generate_series(1, $3)`, [at, marker, n]);
  }

  it('deletes exactly the rows older than N days, in batches, and says so in the event log', async () => {
    await seed(12_001, 200 * DAY, 'old'); // more than two batches
    await seed(7, 90 * DAY + 60_000, 'just-old');
    await seed(5, 90 * DAY - 60_000, 'just-new');
    await seed(9, 1 * DAY, 'new');

    const result = await retention.runIfDue(now);
    expect(result).toMatchObject({ mailLog: 12_008, events: 12_008, days: 90 });
    expect(await count(ds, 'mail_log', `reply IN ('old', 'just-old')`)).toBe(0);
    expect(await count(ds, 'mail_log', `reply = 'just-new'`)).toBe(5);
    expect(await count(ds, 'mail_log', `reply = 'new'`)).toBe(9);
    expect(await count(ds, 'event', `message IN ('old', 'just-old')`)).toBe(0);
    expect(await count(ds, 'event', `message IN ('just-new', 'new')`)).toBe(14);
    const events: { message: string; details: Record<string, unknown> }[] = await ds.query(`SELECT message, details FROM event WHERE message LIKE 'Retention:%'`);
    expect(events.map((e) => e.message)).toEqual(['Retention: 12008 mail-log rows and 12008 events older than 90 days purged']);
  });

  it('runs once a day: not again an hour later, again a day later with the new setting', async () => {
    expect(await retention.runIfDue(new Date(now.getTime() + 3600_000))).toBeNull();
    days = 1;
    const next = await retention.runIfDue(new Date(now.getTime() + DAY));
    // Now everything older than 1 day before (now + 1 day) goes: the 'just-new' rows and the 'new' ones.
    expect(next).toMatchObject({ mailLog: 14, days: 1 });
    expect(await count(ds, 'mail_log', `reply IN ('just-new', 'new')`)).toBe(0);
  });

  it('lets one instance purge at a time (advisory lock)', async () => {
    const other = await ds.createQueryRunner();
    await other.connect();
    try {
      await other.query(`SELECT pg_advisory_lock($1)`, [0x70757267n.toString()]);
      expect(await retention.purge(new Date(now.getTime() + 3 * DAY))).toBeNull();
    } finally {
      await other.query(`SELECT pg_advisory_unlock($1)`, [0x70757267n.toString()]);
      await other.release();
    }
  });
});
