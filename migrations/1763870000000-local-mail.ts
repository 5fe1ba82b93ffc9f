import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Mail for local names (root, postmaster, a bare user name, x@localhost): the alias table in the
 * settings; the original recipients of a message whose recipients were rewritten (for the mail
 * log); why a message is held (a message for a local name waits for an admin address).
 */
export class LocalMail1763870000000 implements MigrationInterface {
  name = 'LocalMail1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings ADD COLUMN aliases jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await q.query(`ALTER TABLE message ADD COLUMN original_recipients jsonb`);
    await q.query(`ALTER TABLE message ADD COLUMN hold_reason text`);
    await q.query(`CREATE INDEX message_hold_reason ON message (hold_reason) WHERE hold_reason IS NOT NULL`);
    await q.query(`ALTER TABLE mail_log ADD COLUMN original_recipient text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_log DROP COLUMN original_recipient`);
    await q.query(`DROP INDEX message_hold_reason`);
    await q.query(`ALTER TABLE message DROP COLUMN hold_reason`);
    await q.query(`ALTER TABLE message DROP COLUMN original_recipients`);
    await q.query(`ALTER TABLE settings DROP COLUMN aliases`);
  }
}
