import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The mail log records every fate of a message: held, released, deleted, absorbed into a storm
 * digest, and test emails apart from traffic. `detail` says why or who (the intake stage of a
 * refusal, the hold reason, the operator); `notice` marks Postroom's own mail (bounces and
 * delay warnings, digests, the daily report) so reports count it apart. Existing rows keep
 * their events and read as traffic.
 */
export class MailLogFates1763910000000 implements MigrationInterface {
  name = 'MailLogFates1763910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_log DROP CONSTRAINT IF EXISTS mail_log_event_check`);
    await q.query(
      `ALTER TABLE mail_log ADD CONSTRAINT mail_log_event_check
         CHECK (event IN ('received', 'sent', 'deferred', 'bounced', 'rejected', 'held', 'released', 'deleted', 'digested', 'test'))`,
    );
    await q.query(`ALTER TABLE mail_log ADD COLUMN detail text`);
    await q.query(`ALTER TABLE mail_log ADD COLUMN notice text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_log DROP COLUMN notice`);
    await q.query(`ALTER TABLE mail_log DROP COLUMN detail`);
    await q.query(`DELETE FROM mail_log WHERE event NOT IN ('received', 'sent', 'deferred', 'bounced', 'rejected')`);
    await q.query(`ALTER TABLE mail_log DROP CONSTRAINT mail_log_event_check`);
    await q.query(`ALTER TABLE mail_log ADD CONSTRAINT mail_log_event_check CHECK (event IN ('received', 'sent', 'deferred', 'bounced', 'rejected'))`);
  }
}
