import { DataSource } from 'typeorm';
import { sqlOf } from './sql.js';

/** Arbitrary constant shared by every instance: the advisory lock that serialises migrations. */
const MIGRATION_LOCK = 0x706f7374726f6f6dn; // "postroom"

/** Runs pending migrations while holding a session advisory lock, so concurrent starts migrate once. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const sql = sqlOf(dataSource);
  return sql.session(async (s) => {
    await sql.rows('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()], s);
    try {
      const done = await dataSource.runMigrations({ transaction: 'each' });
      return done.map((m) => m.name);
    } finally {
      await sql.rows('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()], s).catch(() => undefined);
    }
  });
}
