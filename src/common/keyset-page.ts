import { Page, encodeCursor, toPage } from './pagination.js';

/**
 * A page of a keyset listing (a log, the queue), newest first. `prevCursor` (a `before` value
 * for the page of newer rows) is only set for a `before` query, so the API's answers keep their
 * shape.
 */
export interface LogPage<T> extends Page<T> {
  prevCursor?: string | null;
}

/**
 * The page of rows fetched by a keyset query (database/keyset-query.ts: limit + 1 rows, newest
 * first, or oldest first for `before`), each shown through `view`.
 */
export function keysetPage<R extends { id: string }, V>(rows: R[], at: { before?: string; limit: number }, view: (row: R) => V): LogPage<V> {
  if (at.before) return backwardPage(rows, at.limit, view);
  const page = toPage(rows, at.limit, (r) => r.id);
  return { ...page, items: page.items.map(view) };
}

/**
 * The page just before a `before` key: rows fetched oldest first (`id > before ORDER BY id ASC
 * LIMIT limit + 1`), turned newest first. The extra row says newer rows exist; older ones do too
 * (the `before` row itself), so Next continues below the oldest row shown.
 */
function backwardPage<R extends { id: string }, V>(rows: R[], limit: number, view: (row: R) => V): LogPage<V> {
  const items = rows.slice(0, limit).reverse();
  const newest = items[0];
  const oldest = items[items.length - 1];
  return {
    items: items.map(view),
    nextCursor: oldest ? encodeCursor(oldest.id) : null,
    prevCursor: rows.length > limit && newest ? encodeCursor(newest.id) : null,
  };
}
