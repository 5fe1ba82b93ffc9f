import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql.js';
import { likePattern } from '../mail-log/mail-log.service.js';
import { MessageState } from './message.entity.js';

export interface NewMessage {
  id: string;
  sender: string;
  recipients: string[];
  subject: string;
  messageId: string;
  clientAddress: string | null;
  data: Buffer;
}

export interface QueueRow {
  id: string;
  state: MessageState;
  sender: string;
  recipients: string[];
  subject: string;
  message_id: string;
  size: number;
  client_address: string | null;
  created_at: Date;
  next_attempt_at: Date;
  attempts: number;
  last_error: string | null;
}

export interface ClaimedMessage extends QueueRow {
  data: Buffer;
}

export interface QueueFilter {
  state?: MessageState;
  address?: string;
  /** Older than this id (the API's and the Next link's cursor). */
  cursor?: string;
  /** Newer than this id: the page just before, for a Prev link (the dashboard's). */
  before?: string;
  limit: number;
}

/** What an operator can do to queued messages, one or many at once. */
export type QueueAction = 'flush' | 'hold' | 'release' | 'delete';

const ROW = `id, state, sender, recipients, subject, message_id, size, client_address, created_at, next_attempt_at, attempts, last_error`;

/** Several statements as data-modifying CTEs of one: one round trip, and atomic on its own. */
export function withStatements(statements: string[], final: string): string {
  return `WITH ${statements.map((sql, i) => `s${i} AS (${sql})`).join(', ')} ${final}`;
}

/** Every SQL statement on the queue tables; the services above hold no SQL. */
@Injectable()
export class QueueRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The INSERTs of messages and their bodies, with their values appended to `params` (bodies
   * travel as binary parameters). Callers run them as data-modifying CTEs of ONE statement.
   */
  insertStatements(messages: NewMessage[], now: Date, params: unknown[]): string[] {
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const mRows = messages.map((m) => {
      const at = p(now);
      return `(${p(m.id)}, 'queued', ${p(m.sender)}, ${p(m.recipients)}::text[], ${p(m.subject)}, ${p(m.messageId)}, ${p(m.data.length)}, ${p(m.clientAddress)}, ${at}::timestamptz, ${at}::timestamptz)`;
    });
    const bRows = messages.map((m) => `(${p(m.id)}, ${p(m.data)})`);
    return [
      `INSERT INTO message (id, state, sender, recipients, subject, message_id, size, client_address, created_at, next_attempt_at) VALUES ${mRows.join(', ')}`,
      `INSERT INTO message_body (id, data) VALUES ${bRows.join(', ')}`,
    ];
  }

  /** Inserts messages and their bodies in one statement (inside the caller's transaction). */
  async insert(manager: EntityManager, messages: NewMessage[], now: Date): Promise<void> {
    const params: unknown[] = [];
    await manager.query(withStatements(this.insertStatements(messages, now, params), 'SELECT 1'), params);
  }

  /**
   * Claims up to `limit` due messages for this worker under a lease: queued or deferred messages
   * whose time has come, and messages whose earlier lease expired (a worker died). SKIP LOCKED
   * lets several workers and instances claim at once without waiting or overlapping.
   */
  async claim(owner: string, limit: number, leaseSeconds: number): Promise<ClaimedMessage[]> {
    return this.db.query(
      `WITH due AS (
         SELECT id FROM message
          WHERE (state IN ('queued', 'deferred') AND next_attempt_at <= now())
             OR (state = 'sending' AND lease_until < now())
          ORDER BY next_attempt_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE message m SET state = 'sending', lease_owner = $1, lease_until = now() + make_interval(secs => $3)
           FROM due WHERE m.id = due.id
         RETURNING m.${ROW.split(', ').join(', m.')}
       )
       SELECT c.*, b.data FROM claimed c JOIN message_body b ON b.id = c.id`,
      [owner, limit, leaseSeconds],
    );
  }

  /** Seconds until the next deferred message is due (null when none waits). */
  async secondsUntilNextDue(): Promise<number | null> {
    const rows: { s: number | null }[] = await this.db.query(
      `SELECT EXTRACT(EPOCH FROM (min(next_attempt_at) - now()))::float8 AS s FROM message WHERE state IN ('queued', 'deferred')`,
    );
    return rows[0]?.s ?? null;
  }

  /** Finishes an attempt: deletes a message with nothing left, or defers the rest. Only while we hold its lease. */
  async finishAttempt(
    manager: EntityManager,
    id: string,
    owner: string,
    outcome: { pending: string[]; nextAttemptAt: Date | null; lastError: string | null },
  ): Promise<boolean> {
    if (outcome.pending.length === 0 || outcome.nextAttemptAt === null) {
      const deleted = await queryRows(manager, `DELETE FROM message WHERE id = $1 AND lease_owner = $2 AND state = 'sending' RETURNING id`, [id, owner]);
      return deleted.length > 0;
    }
    const updated = await queryRows(manager,
      `UPDATE message SET state = 'deferred', recipients = $3::text[], attempts = attempts + 1, next_attempt_at = $4,
              last_error = $5, lease_owner = NULL, lease_until = NULL
        WHERE id = $1 AND lease_owner = $2 AND state = 'sending' RETURNING id`,
      [id, owner, outcome.pending, outcome.nextAttemptAt, outcome.lastError],
    );
    return updated.length > 0;
  }

  /** Gives claimed messages back without counting an attempt (graceful shutdown). */
  async releaseLeases(owner: string): Promise<number> {
    const rows = await queryRows(this.db,
      `UPDATE message SET state = 'queued', lease_owner = NULL, lease_until = NULL WHERE state = 'sending' AND lease_owner = $1 RETURNING id`,
      [owner],
    );
    return rows.length;
  }

  /**
   * Up to limit + 1 rows, newest first below `cursor`; with `before`, the rows just above it
   * OLDEST first (`id > before ORDER BY id ASC`): the caller turns them around.
   */
  async list(filter: QueueFilter): Promise<QueueRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (filter.state) where.push(`state = ${p(filter.state)}`);
    if (filter.address) {
      const pattern = p(likePattern(filter.address));
      where.push(`(sender ILIKE ${pattern} OR array_to_string(recipients, ',') ILIKE ${pattern})`);
    }
    if (filter.before) where.push(`id > ${p(filter.before)}`);
    else if (filter.cursor) where.push(`id < ${p(filter.cursor)}`);
    return this.db.query(
      `SELECT ${ROW} FROM message ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id ${filter.before ? 'ASC' : 'DESC'} LIMIT ${p(filter.limit + 1)}`,
      params,
    );
  }

  async get(id: string): Promise<QueueRow | undefined> {
    const rows: QueueRow[] = await this.db.query(`SELECT ${ROW} FROM message WHERE id = $1`, [id]);
    return rows[0];
  }

  async countByState(): Promise<Record<MessageState, number>> {
    const rows: { state: MessageState; n: number }[] = await this.db.query(`SELECT state, count(*)::int AS n FROM message GROUP BY state`);
    const out: Record<MessageState, number> = { queued: 0, deferred: 0, hold: 0, sending: 0 };
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  /** Every deferred message (or the given ones) becomes due now. */
  /**
   * Flush: every deferred message (or the given ones) becomes due now. Given ids may also name
   * messages already queued (due): they count as flushed and keep their place in line.
   */
  async flush(manager: EntityManager, ids?: string[]): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(manager,
      ids
        ? `UPDATE message SET state = 'queued', next_attempt_at = CASE WHEN state = 'deferred' THEN now() ELSE next_attempt_at END
            WHERE state IN ('queued', 'deferred') AND id = ANY($1::text[]) RETURNING id`
        : `UPDATE message SET state = 'queued', next_attempt_at = now() WHERE state = 'deferred' RETURNING id`,
      ids ? [ids] : [],
    );
    return rows.map((r) => r.id);
  }

  /** Removes queued, deferred and held messages (all, or the given ones); messages being sent are left alone. */
  async delete(manager: EntityManager, ids?: string[]): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(manager,
      `DELETE FROM message WHERE state IN ('queued', 'deferred', 'hold') ${ids ? 'AND id = ANY($1::text[])' : ''} RETURNING id`,
      ids ? [ids] : [],
    );
    return rows.map((r) => r.id);
  }

  async hold(manager: EntityManager, ids: string[]): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(manager,
      `UPDATE message SET state = 'hold' WHERE state IN ('queued', 'deferred') AND id = ANY($1::text[]) RETURNING id`,
      [ids],
    );
    return rows.map((r) => r.id);
  }

  async release(manager: EntityManager, ids: string[]): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(manager,
      `UPDATE message SET state = 'queued', next_attempt_at = now() WHERE state = 'hold' AND id = ANY($1::text[]) RETURNING id`,
      [ids],
    );
    return rows.map((r) => r.id);
  }
}
