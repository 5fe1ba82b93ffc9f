import { MigrationInterface, QueryRunner } from 'typeorm';

/** Dashboard: login sessions (the connect-pg-simple layout) and the admin password hash. */
export class Dashboard1763790000000 implements MigrationInterface {
  name = 'Dashboard1763790000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE web_session (
        sid varchar PRIMARY KEY,
        sess json NOT NULL,
        expire timestamp(6) NOT NULL
      )`);
    await q.query(`CREATE INDEX web_session_expire ON web_session (expire)`);
    await q.query(`
      CREATE TABLE admin_account (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE admin_account`);
    await q.query(`DROP TABLE web_session`);
  }
}
