import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notification channels (HTTP targets delivered from the same queue as mail, their secrets
 * sealed; the outcome of its latest deliveries), routing rules evaluated at intake in `position` order, and on each message the
 * escalation an `undelivered` rule asks for (the channels to add once mail cannot deliver it).
 */
export class ChannelsRules1763920000000 implements MigrationInterface {
  name = 'ChannelsRules1763920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE channel (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL,
        type text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        url_hint text NOT NULL,
        secrets_sealed text NOT NULL,
        options jsonb NOT NULL DEFAULT '{}',
        last_success_at timestamptz,
        last_failure_at timestamptz,
        last_failure_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX channel_name ON channel (lower(name))`);
    await q.query(`
      CREATE TABLE rule (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        position integer NOT NULL,
        match jsonb NOT NULL DEFAULT '{}',
        channels integer[] NOT NULL,
        "when" text NOT NULL,
        after_minutes integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX rule_position ON rule (position, id)`);
    await q.query(`ALTER TABLE message ADD COLUMN escalation jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE message DROP COLUMN escalation`);
    await q.query(`DROP TABLE rule`);
    await q.query(`DROP TABLE channel`);
  }
}
