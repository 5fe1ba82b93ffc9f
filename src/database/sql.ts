import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

type Queryable = Pick<EntityManager, 'query'> | Pick<DataSource, 'query'>;

/**
 * The rows of a statement. TypeORM's query() answers UPDATE and DELETE with
 * `[rows, affectedCount]` rather than the rows; this always gives the rows (RETURNING).
 */
export async function queryRows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await db.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

/** Statement texts run as named prepared statements, per data source (bounded: past it, unnamed). */
const prepared = new WeakMap<DataSource, Map<string, string>>();
const MAX_PREPARED = 64;

/**
 * The rows of a hot-path statement whose text never changes (the parameters carry the batch):
 * it runs on pg's pool as a named prepared statement, so each connection parses and plans it
 * once instead of on every call, and TypeORM's query runner is not in the way.
 */
export async function preparedRows<T>(db: DataSource, text: string, values: unknown[]): Promise<T[]> {
  let names = prepared.get(db);
  if (!names) prepared.set(db, (names = new Map()));
  let name = names.get(text);
  if (name === undefined && names.size < MAX_PREPARED) names.set(text, (name = `postroom_${names.size + 1}`));
  const result = await pgPool(db).query<T & QueryResultRow>({ name, text, values });
  return result.rows;
}

/** pg's own pool under TypeORM's data source. */
const pgPool = (db: DataSource): Pool => (db.driver as unknown as { master: Pool }).master;

/** Runs `fn` in a transaction on one connection of pg's pool (for COPY, which TypeORM's query runner cannot do). */
export async function pgTransaction<T>(db: DataSource, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pgPool(db).connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
