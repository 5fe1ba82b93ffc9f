import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The mail-log lines of notification channels (recipient channel:<id>) by time: the daily
 * report lists them per channel without scanning the day's mail deliveries.
 */
export class ChannelLines1763940000000 implements MigrationInterface {
  name = 'ChannelLines1763940000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX mail_log_channel_at ON mail_log (at) WHERE recipient LIKE 'channel:%'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX mail_log_channel_at`);
  }
}
