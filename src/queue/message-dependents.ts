/**
 * The rows that belong to a message — its body (message_body) and, for a message held back by
 * the alert-storm guard, its storm_hold row — are deleted by the statement that deletes the
 * message, as parts of it. They have no foreign key to message: its checks and cascades are
 * per-row triggers, and on the hot path (one message in, one delivered) they cost more than
 * the rows' own writes; a whole-queue delete of 100,000 messages took 3.5 times as long with
 * them. Every statement that deletes messages adds these parts, reading the ids its part
 * named `deleted` RETURNs.
 */
export function dependentsDeleted(deleted: string): { name: string; sql: string }[] {
  return [
    { name: `${deleted}_bodies`, sql: `DELETE FROM message_body b USING ${deleted} d WHERE b.id = d.id` },
    { name: `${deleted}_holds`, sql: `DELETE FROM storm_hold h USING ${deleted} d WHERE h.id = d.id` },
  ];
}

/** The same parts as SQL to follow a `WITH deleted AS (…)` (for statements written out by hand). */
export function dependentsDeletedSql(deleted: string): string {
  return dependentsDeleted(deleted).map((p) => `${p.name} AS (${p.sql})`).join(', ');
}
