/**
 * A delivery worker's sign of life: a session-level advisory lock keyed by its lease owner name,
 * held on the instance's long-lived connection (PgNotifier's). PostgreSQL drops the lock the
 * moment that connection ends — the process exited or was killed, its machine or the database
 * restarted — so a claim takes back the leases of a worker that is gone at once, instead of when
 * they run out, while a worker that is only slow keeps its own. (Two owner names with the same
 * hash look alive to each other: their leases then just run their course, as without this.)
 */
export const PRESENCE_LOCK_CLASS = 0x50524d4c;

/** Takes the presence lock of the owner in $1 (on the connection that is to hold it). */
export const HOLD_PRESENCE = `SELECT pg_try_advisory_lock(${PRESENCE_LOCK_CLASS}, hashtext($1)) AS held`;

/** SQL, true while the worker whose owner name is the expression `owner` holds its presence lock in this database. */
export function presenceHeld(owner: string): string {
  return `hashtext(${owner})::oid IN (SELECT objid FROM pg_locks
            WHERE locktype = 'advisory' AND classid = ${PRESENCE_LOCK_CLASS} AND objsubid = 2 AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`;
}
