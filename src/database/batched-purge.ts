import type { Sql } from './sql.js';

const BATCH = 5000;

/**
 * Deletes the rows of an append-only table (an `id` key and an indexed `at` time) older than
 * `before`, oldest first, BATCH rows per statement until a batch comes back short: each batch is
 * its own short transaction, so there is no long lock and no huge WAL burst. Resolves with the
 * number deleted. For the owners of such tables (the mail log, the event log).
 */
export async function purgeOlderThan(sql: Sql, table: string, before: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const [done] = await sql.rows<{ n: number }>(
      `WITH old AS (SELECT id FROM ${table} WHERE at < $1 ORDER BY at LIMIT ${BATCH}),
            gone AS (DELETE FROM ${table} t USING old WHERE t.id = old.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [before],
    );
    const n = done?.n ?? 0;
    total += n;
    if (n < BATCH) return total;
  }
}
