import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery notices: the optional delay warning (settings.delay_warning_hours, 0 = off) and, per
 * message, when its one "delayed" notice was sent (so it is sent once, whichever instance sees it).
 */
export class DeliveryNotices1763810000000 implements MigrationInterface {
  name = 'DeliveryNotices1763810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings ADD COLUMN delay_warning_hours integer NOT NULL DEFAULT 0 CHECK (delay_warning_hours BETWEEN 0 AND 2400)`);
    await q.query(`ALTER TABLE message ADD COLUMN delay_warned_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message DROP COLUMN delay_warned_at`);
    await q.query(`ALTER TABLE settings DROP COLUMN delay_warning_hours`);
  }
}
