import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A flush that finds a message being sent marks it: should that attempt end deferred (it may
 * have started before the relay came back), the message is due at once instead of at its
 * next retry time.
 */
export class FlushInFlight1763850000000 implements MigrationInterface {
  name = 'FlushInFlight1763850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message ADD COLUMN flushed_in_flight boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message DROP COLUMN flushed_in_flight`);
  }
}
