import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * message_body and storm_hold lose their foreign keys to message: the statements that delete
 * messages delete their rows too (src/queue/message-dependents.ts). The keys' per-row triggers
 * were the largest part of a delivered message's commit.
 */
export class MessageDependents1763860000000 implements MigrationInterface {
  name = 'MessageDependents1763860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message_body DROP CONSTRAINT message_body_id_fkey`);
    await q.query(`ALTER TABLE storm_hold DROP CONSTRAINT storm_hold_id_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['message_body', 'storm_hold']) {
      await q.query(`DELETE FROM ${table} t WHERE NOT EXISTS (SELECT 1 FROM message m WHERE m.id = t.id)`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_id_fkey FOREIGN KEY (id) REFERENCES message (id) ON DELETE CASCADE`);
    }
  }
}
