import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Relay failover: backup relays beside the primary one of the settings row, and the health of
 * every relay (the primary's under the key 'primary', a backup's under its id), written by each
 * instance every few seconds at most, as increments, so several instances add up.
 */
export class Relays1763820000000 implements MigrationInterface {
  name = 'Relays1763820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE relay (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        host text NOT NULL,
        port integer CHECK (port BETWEEN 1 AND 65535),
        security text NOT NULL DEFAULT 'starttls' CHECK (security IN ('none', 'starttls', 'tls')),
        tls_verify boolean NOT NULL DEFAULT true,
        auth_enabled boolean NOT NULL DEFAULT false,
        username text NOT NULL DEFAULT '',
        password_sealed text,
        priority integer NOT NULL CHECK (priority >= 1),
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX relay_priority ON relay (priority, id)`);
    await q.query(`
      CREATE TABLE relay_health (
        relay_key text PRIMARY KEY,
        relay text NOT NULL,
        last_success_at timestamptz,
        last_failure_at timestamptz,
        last_failure_reason text,
        last_failure_kind text,
        latency_ms integer,
        last_latency_ms integer,
        successes bigint NOT NULL DEFAULT 0,
        failures bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE relay_health`);
    await q.query(`DROP TABLE relay`);
  }
}
