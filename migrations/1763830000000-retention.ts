import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operations: retention of the mail log and the event log (settings + the once-a-day marker),
 * and alert-storm protection (settings + the storm_hold table that says why a held message is
 * held and when its digest is due).
 */
export class Retention1763830000000 implements MigrationInterface {
  name = 'Retention1763830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings ADD COLUMN retention_days integer NOT NULL DEFAULT 90 CHECK (retention_days BETWEEN 1 AND 3650)`);
    await q.query(`ALTER TABLE settings ADD COLUMN storm_window_minutes integer NOT NULL DEFAULT 10 CHECK (storm_window_minutes BETWEEN 1 AND 1440)`);
    await q.query(`ALTER TABLE settings ADD COLUMN storm_max_duplicates integer NOT NULL DEFAULT 3 CHECK (storm_max_duplicates BETWEEN 0 AND 10000)`);
    await q.query(`ALTER TABLE settings ADD COLUMN sender_rate_limit_per_minute integer NOT NULL DEFAULT 0 CHECK (sender_rate_limit_per_minute BETWEEN 0 AND 100000)`);
    await q.query(`
      CREATE TABLE retention_run (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        last_run_at timestamptz
      )`);
    await q.query(`INSERT INTO retention_run (id) VALUES (1)`);
    // A message held back by storm protection: the message row itself is in the queue with
    // state 'hold' (listed, deletable, releasable); this row says which digest summarises it.
    await q.query(`
      CREATE TABLE storm_hold (
        id text PRIMARY KEY REFERENCES message (id) ON DELETE CASCADE,
        reason text NOT NULL CHECK (reason IN ('duplicate', 'rate')),
        digest_key text NOT NULL,
        digest_due_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX storm_hold_due ON storm_hold (digest_due_at)`);
    await q.query(`CREATE INDEX storm_hold_key ON storm_hold (digest_key)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE storm_hold`);
    await q.query(`DROP TABLE retention_run`);
    await q.query(`ALTER TABLE settings DROP COLUMN sender_rate_limit_per_minute`);
    await q.query(`ALTER TABLE settings DROP COLUMN storm_max_duplicates`);
    await q.query(`ALTER TABLE settings DROP COLUMN storm_window_minutes`);
    await q.query(`ALTER TABLE settings DROP COLUMN retention_days`);
  }
}
