import { MigrationInterface, QueryRunner } from 'typeorm';

/** The first schema: settings, queue, bodies, mail log, event log, API tokens. */
export class Initial1763780000000 implements MigrationInterface {
  name = 'Initial1763780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE settings (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        relay_host text NOT NULL DEFAULT '',
        relay_port integer,
        security text NOT NULL DEFAULT 'starttls' CHECK (security IN ('none', 'starttls', 'tls')),
        tls_verify boolean NOT NULL DEFAULT true,
        auth_enabled boolean NOT NULL DEFAULT false,
        username text NOT NULL DEFAULT '',
        password_sealed text,
        hostname text NOT NULL DEFAULT '',
        from_name text NOT NULL DEFAULT 'Postroom',
        from_address text NOT NULL DEFAULT '',
        admin_address text NOT NULL DEFAULT '',
        rewrite_from boolean NOT NULL DEFAULT false,
        timeout_seconds integer NOT NULL DEFAULT 30,
        pool_size integer NOT NULL DEFAULT 10,
        lifetime_hours integer NOT NULL DEFAULT 120,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO settings (id) VALUES (1)`);

    await q.query(`
      CREATE TABLE message (
        id text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('queued', 'deferred', 'hold', 'sending')),
        sender text NOT NULL DEFAULT '',
        recipients text[] NOT NULL,
        subject text NOT NULL DEFAULT '',
        message_id text NOT NULL DEFAULT '',
        size integer NOT NULL,
        client_address text,
        created_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        lease_owner text,
        lease_until timestamptz
      )`);
    await q.query(`CREATE INDEX message_due ON message (next_attempt_at) WHERE state IN ('queued', 'deferred')`);
    await q.query(`CREATE INDEX message_lease ON message (lease_until) WHERE state = 'sending'`);
    await q.query(`CREATE INDEX message_state_id ON message (state, id)`);

    await q.query(`
      CREATE TABLE message_body (
        id text PRIMARY KEY REFERENCES message (id) ON DELETE CASCADE,
        data bytea NOT NULL
      )`);
    await q.query(`ALTER TABLE message_body ALTER COLUMN data SET STORAGE EXTERNAL`);

    await q.query(`
      CREATE TABLE mail_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        queue_id text,
        message_id text,
        event text NOT NULL CHECK (event IN ('received', 'sent', 'deferred', 'bounced', 'rejected')),
        sender text NOT NULL DEFAULT '',
        recipient text NOT NULL DEFAULT '',
        relay text,
        size integer NOT NULL DEFAULT 0,
        delay_ms integer,
        attempt integer,
        reply text,
        client_address text,
        subject text
      )`);
    await q.query(`CREATE INDEX mail_log_event_id ON mail_log (event, id)`);
    await q.query(`CREATE INDEX mail_log_queue_id ON mail_log (queue_id)`);
    await q.query(`CREATE INDEX mail_log_at ON mail_log (at)`);

    await q.query(`
      CREATE TABLE event (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        level text NOT NULL CHECK (level IN ('info', 'warning', 'error')),
        source text NOT NULL,
        message text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX event_level_id ON event (level, id)`);
    await q.query(`CREATE INDEX event_at ON event (at)`);

    await q.query(`
      CREATE TABLE api_token (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL,
        token_sha256 text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_token`);
    await q.query(`DROP TABLE event`);
    await q.query(`DROP TABLE mail_log`);
    await q.query(`DROP TABLE message_body`);
    await q.query(`DROP TABLE message`);
    await q.query(`DROP TABLE settings`);
  }
}
