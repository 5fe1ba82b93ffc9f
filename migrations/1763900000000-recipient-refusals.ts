import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Relay health counts the recipients a relay refused (RCPT 4xx/5xx) apart from its failures: a
 * refusal is about that recipient, and no longer marks the relay as failing. Existing rows
 * start at 0.
 */
export class RecipientRefusals1763900000000 implements MigrationInterface {
  name = 'RecipientRefusals1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE relay_health ADD COLUMN recipient_refusals bigint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE relay_health DROP COLUMN recipient_refusals`);
  }
}
