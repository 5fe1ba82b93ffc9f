import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reports: the daily report settings, the once-a-day delivery marker, and an index that lets
 * each report query read only one kind of mail-log entry of one day.
 */
export class Reports1763800000000 implements MigrationInterface {
  name = 'Reports1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings ADD COLUMN report_enabled boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE settings ADD COLUMN report_time text NOT NULL DEFAULT '07:00' CHECK (report_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$')`);
    await q.query(`
      CREATE TABLE report_delivery (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        last_report_date date,
        last_sent_at timestamptz
      )`);
    await q.query(`INSERT INTO report_delivery (id) VALUES (1)`);
    await q.query(`CREATE INDEX mail_log_event_at ON mail_log (event, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX mail_log_event_at`);
    await q.query(`DROP TABLE report_delivery`);
    await q.query(`ALTER TABLE settings DROP COLUMN report_time`);
    await q.query(`ALTER TABLE settings DROP COLUMN report_enabled`);
  }
}
