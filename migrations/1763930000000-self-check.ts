import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The mail path's self-check: a relay probe every N minutes (0 = off), the queue-age alarm
 * (minutes; 0 = off), the daily heartbeat email, and the dead man's switch URL pinged after a
 * successful delivery or probe.
 */
export class SelfCheck1763930000000 implements MigrationInterface {
  name = 'SelfCheck1763930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE settings
        ADD COLUMN probe_minutes integer NOT NULL DEFAULT 0,
        ADD COLUMN queue_age_alarm_minutes integer NOT NULL DEFAULT 60,
        ADD COLUMN heartbeat_enabled boolean NOT NULL DEFAULT false,
        ADD COLUMN heartbeat_url text NOT NULL DEFAULT ''`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings DROP COLUMN probe_minutes, DROP COLUMN queue_age_alarm_minutes, DROP COLUMN heartbeat_enabled, DROP COLUMN heartbeat_url`);
  }
}
