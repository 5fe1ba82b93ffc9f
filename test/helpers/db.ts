import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { Sql, sqlOf } from '../../src/database/sql.js';
import { TEMPLATE_DB, withDatabase } from './global-setup.js';
import { ENTITIES } from '../../src/entities.js';

/** A fresh database for one test file, copied from the migrated template (real migrations), or empty with template0. */
export async function createTestDatabase(template: typeof TEMPLATE_DB | 'template0' = TEMPLATE_DB): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = inject('pgAdminUrl');
  const name = `postroom_t_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  return {
    url: withDatabase(adminUrl, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A TypeORM data source on a fresh test database, and its Sql; close() drops the database. */
export async function openTestDataSource(): Promise<{ ds: DataSource; sql: Sql; url: string; close: () => Promise<void> }> {
  const db = await createTestDatabase();
  const ds = new DataSource(dataSourceOptions(db.url, 10, ENTITIES));
  await ds.initialize();
  return {
    ds,
    sql: sqlOf(ds),
    url: db.url,
    close: async () => {
      await ds.destroy();
      await db.drop();
    },
  };
}

export const silentLogger = pino({ level: 'silent' });
