import { Injectable } from '@nestjs/common';
import { likePattern } from '../common/like-pattern.js';
import { MessageData, STREAMED_BODY_BYTES, slices, wholeMessage } from '../common/message-data.js';
import { CompositeStatement } from '../database/composite-statement.js';
import { KeysetPosition, KeysetQuery } from '../database/keyset-query.js';
import { Conn, Sql } from '../database/sql.js';
import { dependentsDeleted, dependentsDeletedSql } from './message-dependents.js';
import type { EscalationStep } from '../common/escalation.js';
import type { NoticeKind } from '../mail-log/mail-log.entity.js';
import { MessageState } from './message.entity.js';
import { presenceHeld } from './presence.js';

export interface NewMessage {
  id: string;
  sender: string;
  recipients: string[];
  subject: string;
  messageId: string;
  clientAddress: string | null;
  /** A big message in its parts (see MessageParts). */
  data: MessageData;
  /** When it arrived, if not now (a maildrop file written while Postroom was stopped). */
  receivedAt?: Date;
  /** Recipients rewritten at intake: rewritten address → the original(s). */
  originalRecipients?: Record<string, string> | null;
  /** Postroom's own mail (a notice, a digest, the daily report): its 'received' line says so. */
  notice?: NoticeKind;
  /** What `undelivered` routing rules add to its recipients if mail cannot deliver it. */
  escalation?: EscalationStep[];
  /** Stored on hold rather than queued. */
  held?: {
    /** What the queue shows as its last error: why it waits. */
    lastError: string;
    /** Set when only Postroom releases it, and why (MessageEntity.holdReason: 'local'); absent, the operator may. */
    reason?: string;
    /** Held back by the alert-storm guard: stored with its storm_hold row. */
    storm?: StormHold;
  };
}

/**
 * A message held back by the alert-storm guard (a storm_hold row, which this module owns with
 * the message): when its group is due, one digest replaces every message of the group still held.
 */
export interface StormHold {
  /** A run of identical messages, or a sender over its rate (storm_hold.reason). */
  reason: 'duplicate' | 'rate';
  /** Held messages with the same group go into one digest. */
  group: string;
  /** When the digest is due (the end of the storm's window). */
  dueAt: Date;
}

/** A held message of a group whose digest is being written (locked until that transaction ends). */
export interface DigestedMessage {
  id: string;
  sender: string;
  recipients: string[];
  subject: string;
  created_at: Date;
  /** Bytes of its body (message_body), as stored. */
  size: number;
  reason: StormHold['reason'];
  /** Its routing rules' `undelivered` steps, which the digest that carries it takes over. */
  escalation: EscalationStep[] | null;
}

/** Bodies read together at most this many bytes at a time (bytea travels as hex: twice that). */
const BODIES_PER_READ = 4 * 1024 * 1024;

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
  original_recipients: Record<string, string> | null;
  hold_reason: string | null;
  escalation: EscalationStep[] | null;
}

export interface ClaimedMessage extends QueueRow {
  /** The raw message; a claim leaves it null above STREAMED_BODY_BYTES (read it with loadBody). */
  data: MessageData | null;
}

const SLICE_BYTES = 256 * 1024;

export interface QueueFilter extends KeysetPosition {
  state?: MessageState;
  address?: string;
  /** Text anywhere in the subject, the addresses, the queue id or the Message-ID. */
  text?: string;
}

/** What an operator can do to queued messages, one or many at once. */
export type QueueAction = 'flush' | 'hold' | 'release' | 'delete';

/** Any constant shared by every instance: the first key of the advisory locks that make one instance write a group's digest. */
const DIGEST_LOCK = 0x73746f72; // "stor"

/** What a message's fate line in the mail log (held, released, deleted, digested) repeats of it. */
export interface MessageFacts {
  id: string;
  sender: string;
  recipients: string[];
  messageId: string;
  size: number;
  subject: string;
  clientAddress: string | null;
}

/** A held message's release (LocalMailService): its new recipients, and a storm hold when the alert-storm guard keeps it back. */
export interface ReleaseChange {
  id: string;
  recipients: string[];
  originals: Record<string, string> | null;
  storm?: { reason: StormHold['reason']; group: string; dueAt: Date; lastError: string };
}

/** MessageFacts' columns, for a RETURNING. */
const FACTS = `id, sender, recipients, message_id AS "messageId", size, subject, client_address AS "clientAddress"`;

const ROW = `id, state, sender, recipients, subject, message_id, size, client_address, created_at, next_attempt_at, attempts, last_error, original_recipients, hold_reason, escalation`;

/** Messages that go in already claimed: handed straight to the worker that holds this lease. */
export interface Handoff {
  owner: string;
  leaseSeconds: number;
  /** The first `count` messages of the batch. */
  count: number;
}

/** The end of one delivery attempt for the queue row: gone (nothing pending) or deferred. */
export interface Finish {
  id: string;
  owner: string;
  /** Recipients still to deliver; with nextAttemptAt null the message is done. */
  pending: string[];
  nextAttemptAt: Date | null;
  lastError: string | null;
  /** The escalation steps still to take (unchanged when absent). */
  escalation?: EscalationStep[];
}

/**
 * Every SQL statement on the queue's tables — message, message_body and storm_hold, which no
 * other module reads or writes; the services above hold no SQL.
 */
@Injectable()
export class QueueRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Adds the INSERTs of messages and their bodies to a composite statement. With a handoff, its
   * first `count` messages go in as 'sending' under that lease (never a held one: the caller
   * puts those last); the others are 'queued', or 'hold' when they say so — with their
   * storm_hold rows when the alert-storm guard held them back.
   */
  insertInto(st: CompositeStatement, messages: NewMessage[], now: Date, handoff?: Handoff, options: { bodies: boolean } = { bodies: true }): void {
    const at = st.p(now, 'timestamptz');
    const owner = st.p(handoff?.owner ?? null, 'text');
    const lease = st.p(handoff?.leaseSeconds ?? 0, 'float8');
    const rows = st.json(
      messages.map((m, i) => ({
        i,
        id: m.id,
        sender: m.sender,
        recipients: m.recipients,
        subject: m.subject,
        message_id: m.messageId,
        size: m.data.length,
        client_address: m.clientAddress,
        leased: !!handoff && i < handoff.count,
        // Rare: left out of the JSON when absent (they read as NULL), so the hot path's rows stay small.
        ...(m.receivedAt ? { created_at: m.receivedAt } : {}),
        ...(m.originalRecipients ? { original_recipients: m.originalRecipients } : {}),
        ...(m.escalation?.length ? { escalation: m.escalation } : {}),
        ...(m.held ? { held: true, hold_reason: m.held.reason ?? null, last_error: m.held.lastError } : {}),
        ...(m.held?.storm ? { next_attempt_at: m.held.storm.dueAt, storm_reason: m.held.storm.reason, storm_group: m.held.storm.group } : {}),
      })),
    );
    st.with(
      'new_message',
      `SELECT * FROM jsonb_to_recordset(${rows}) AS r(i int, id text, sender text, recipients text[], subject text, message_id text, size int, client_address text, leased boolean,
                                                     created_at timestamptz, original_recipients jsonb, escalation jsonb, held boolean, hold_reason text, last_error text,
                                                     next_attempt_at timestamptz, storm_reason text, storm_group text)`,
    );
    st.with(
      'messages',
      `INSERT INTO message (id, sender, recipients, subject, message_id, size, client_address, created_at, next_attempt_at, state, lease_owner, lease_until,
                            original_recipients, escalation, hold_reason, last_error)
       SELECT id, sender, recipients, subject, message_id, size, client_address, coalesce(created_at, ${at}), coalesce(next_attempt_at, ${at}),
              CASE WHEN held THEN 'hold' WHEN leased THEN 'sending' ELSE 'queued' END,
              CASE WHEN leased THEN ${owner} END, CASE WHEN leased THEN now() + make_interval(secs => ${lease}) END,
              original_recipients, escalation, hold_reason, last_error
         FROM new_message`,
    );
    if (messages.some((m) => m.held?.storm)) {
      st.with('storm_holds', `INSERT INTO storm_hold (id, reason, digest_key, digest_due_at) SELECT id, storm_reason, storm_group, next_attempt_at FROM new_message WHERE storm_group IS NOT NULL`);
    }
    if (!options.bodies) return;
    st.with('bodies', `INSERT INTO message_body (id, data) SELECT r.id, b.data FROM new_message r JOIN unnest(${st.bytes(messages.map((m) => wholeMessage(m.data)))}) WITH ORDINALITY AS b(data, n) ON b.n = r.i + 1`);
  }

  /**
   * Stores a body with COPY (binary format) in slices, inside the caller's transaction, after its
   * message row: memory stays at the body itself plus one slice.
   */
  async streamBody(tx: Conn, id: string, data: MessageData): Promise<void> {
    const idBytes = Buffer.from(id, 'utf8');
    const head = Buffer.alloc(19 + 2 + 4 + idBytes.length + 4);
    head.write('PGCOPY\n\xff\r\n\0', 0, 'latin1'); // signature, then flags and header extension: 0
    let at = 19;
    at = head.writeInt16BE(2, at); // fields in the row
    at = head.writeInt32BE(idBytes.length, at);
    at += idBytes.copy(head, at);
    head.writeInt32BE(data.length, at);
    const trailer = Buffer.from([0xff, 0xff]);
    function* pieces(): Generator<Buffer> {
      yield head;
      yield* slices(data, SLICE_BYTES);
      yield trailer;
    }
    await this.sql.copyIn(tx, 'COPY message_body (id, data) FROM STDIN (FORMAT binary)', pieces());
  }

  /** A body read back in slices (for bodies a claim left out: see STREAMED_BODY_BYTES). */
  async loadBody(id: string, size: number, on?: Conn): Promise<Buffer> {
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const rows = await this.sql.prepared<{ part: Buffer | null }>(`SELECT substring(data FROM $2 FOR $3) AS part FROM message_body WHERE id = $1`, [id, at + 1, SLICE_BYTES], on);
      const part = rows[0]?.part;
      if (!part || part.length === 0) throw new Error(`message ${id}: body ends at ${at} of ${size} bytes`);
      at += part.copy(out, at);
    }
    return out;
  }

  /**
   * Adds the end of delivery attempts to a composite statement: messages with nothing pending
   * are deleted, the others deferred — each only while `owner` still holds its lease (a lease
   * that expired may have gone to another worker, whose outcome then counts). The part named
   * by the return value lists the ids that were ours (`SELECT id FROM mine`), for the mail log
   * and events of the same statement to follow.
   */
  finishInto(st: CompositeStatement, finishes: Finish[]): string {
    const rows = st.json(
      finishes.map((f) => ({ id: f.id, owner: f.owner, pending: f.pending, next_at: f.nextAttemptAt, last_error: f.lastError, ...(f.escalation ? { escalated: true, escalation: f.escalation.length ? f.escalation : null } : {}) })),
    );
    st.with('outcome', `SELECT * FROM jsonb_to_recordset(${rows}) AS o(id text, owner text, pending text[], next_at timestamptz, last_error text, escalated boolean, escalation jsonb)`);
    st.with(
      'finished',
      `DELETE FROM message m USING outcome o WHERE m.id = o.id AND m.lease_owner = o.owner AND m.state = 'sending' AND o.next_at IS NULL RETURNING m.id`,
    );
    for (const part of dependentsDeleted('finished')) st.with(part.name, part.sql);
    st.with(
      'postponed',
      `UPDATE message m SET state = 'deferred', recipients = o.pending, attempts = m.attempts + 1,
              next_attempt_at = CASE WHEN m.flushed_in_flight THEN now() ELSE o.next_at END, flushed_in_flight = false,
              last_error = o.last_error, lease_owner = NULL, lease_until = NULL,
              escalation = CASE WHEN o.escalated THEN o.escalation ELSE m.escalation END
         FROM outcome o WHERE m.id = o.id AND m.lease_owner = o.owner AND m.state = 'sending' AND o.next_at IS NOT NULL
       RETURNING m.id, m.next_attempt_at <= now() AS due`,
    );
    st.with('mine', `SELECT id FROM finished UNION ALL SELECT id FROM postponed`);
    return 'mine';
  }

  /** SQL, true when an attempt in `finishInto`'s statement left its message due at once (it was flushed while being sent). */
  readonly dueAgain = `EXISTS (SELECT 1 FROM postponed WHERE due)`;

  /**
   * Claims up to `limit` due messages for this worker under a lease: queued or deferred messages
   * whose time has come, and messages leased to a worker that is gone — its lease expired, or its
   * presence lock went with its connection (see presence.ts). SKIP LOCKED lets several workers
   * and instances claim at once without waiting or overlapping. The two kinds are looked up
   * apart so that each has its index: the due ones in order from message_due, stopping at the
   * limit, however deep the queue (one condition with OR read and sorted every row).
   */
  async claim(owner: string, limit: number, leaseSeconds: number): Promise<ClaimedMessage[]> {
    return this.sql.prepared(
      `WITH ready AS (
         SELECT id, next_attempt_at FROM message
          WHERE state IN ('queued', 'deferred') AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $2
          FOR UPDATE SKIP LOCKED
       ), orphaned AS (
         SELECT id, next_attempt_at FROM message
          WHERE state = 'sending' AND (lease_until < now() OR (lease_owner <> $1 AND NOT ${presenceHeld('lease_owner')}))
          ORDER BY next_attempt_at LIMIT $2
          FOR UPDATE SKIP LOCKED
       ), due AS (
         SELECT id FROM (SELECT * FROM ready UNION ALL SELECT * FROM orphaned) d ORDER BY next_attempt_at LIMIT $2
       ), claimed AS (
         UPDATE message m SET state = 'sending', lease_owner = $1, lease_until = now() + make_interval(secs => $3), flushed_in_flight = false
           FROM due WHERE m.id = due.id
         RETURNING m.${ROW.split(', ').join(', m.')}
       )
       SELECT c.*, b.data FROM claimed c LEFT JOIN message_body b ON b.id = c.id AND c.size <= $4`,
      [owner, limit, leaseSeconds, STREAMED_BODY_BYTES],
    );
  }

  /** Seconds until the next deferred message is due (null when none waits). */
  async secondsUntilNextDue(): Promise<number | null> {
    const rows = await this.sql.prepared<{ s: number | null }>(
      `SELECT EXTRACT(EPOCH FROM (min(next_attempt_at) - now()))::float8 AS s FROM message WHERE state IN ('queued', 'deferred')`,
      [],
    );
    return rows[0]?.s ?? null;
  }

  /** The age of the oldest message waiting (queued, deferred or being sent), in seconds; 0 when none waits. */
  async oldestWaitingSeconds(): Promise<number> {
    const rows = await this.sql.rows<{ s: number | null }>(
      `SELECT EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS s FROM message WHERE state IN ('queued', 'deferred', 'sending')`,
    );
    return Math.max(0, rows[0]?.s ?? 0);
  }

  /** The deferred message that has waited longest, and for how long (seconds): the queue-age alarm's question. */
  async oldestDeferred(): Promise<{ id: string; subject: string; last_error: string | null; age: number } | undefined> {
    const [row] = await this.sql.rows<{ id: string; subject: string; last_error: string | null; age: number }>(
      `SELECT id, subject, last_error, EXTRACT(EPOCH FROM (now() - created_at))::float8 AS age FROM message WHERE state = 'deferred' ORDER BY created_at LIMIT 1`,
    );
    return row;
  }

  /** Gives claimed messages back without counting an attempt (graceful shutdown). */
  async releaseLeases(owner: string): Promise<number> {
    const rows = await this.sql.rows(
      `UPDATE message SET state = 'queued', lease_owner = NULL, lease_until = NULL, flushed_in_flight = false
        WHERE state = 'sending' AND lease_owner = $1 RETURNING id`,
      [owner],
    );
    return rows.length;
  }

  /**
   * Up to limit + 1 rows, newest first below `cursor`; with `before`, the rows just above it
   * OLDEST first (`id > before ORDER BY id ASC`): the caller turns them around.
   */
  async list(filter: QueueFilter): Promise<QueueRow[]> {
    const q = new KeysetQuery();
    if (filter.state) q.where(`state = ${q.p(filter.state)}`);
    if (filter.address) {
      const pattern = q.p(likePattern(filter.address));
      q.where(`(sender ILIKE ${pattern} OR array_to_string(recipients, ',') ILIKE ${pattern})`);
    }
    if (filter.text) {
      const pattern = q.p(likePattern(filter.text));
      q.where(`(subject ILIKE ${pattern} OR sender ILIKE ${pattern} OR array_to_string(recipients, ',') ILIKE ${pattern} OR id ILIKE ${pattern} OR message_id ILIKE ${pattern})`);
    }
    return this.sql.rows(q.text(`SELECT ${ROW} FROM message`, 'id', filter), q.params);
  }

  async get(id: string): Promise<QueueRow | undefined> {
    const rows = await this.sql.rows<QueueRow>(`SELECT ${ROW} FROM message WHERE id = $1`, [id]);
    return rows[0];
  }

  /** A queued message's stored bytes, or their first `bytes` (a preview); undefined once it has left the queue. */
  async body(id: string, bytes?: number): Promise<Buffer | undefined> {
    const rows = await this.sql.rows<{ data: Buffer }>(
      bytes === undefined ? `SELECT data FROM message_body WHERE id = $1` : `SELECT substring(data FROM 1 FOR $2) AS data FROM message_body WHERE id = $1`,
      bytes === undefined ? [id] : [id, bytes],
    );
    return rows[0]?.data;
  }

  async countByState(): Promise<Record<MessageState, number>> {
    const rows = await this.sql.rows<{ state: MessageState; n: number }>(`SELECT state, count(*)::int AS n FROM message GROUP BY state`);
    const out: Record<MessageState, number> = { queued: 0, deferred: 0, hold: 0, sending: 0 };
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  /**
   * Flush of the given messages: the deferred ones become due now; those already queued (due)
   * count as flushed and keep their place in line. (The whole queue: flushAll.)
   */
  async flush(tx: Conn, ids: string[]): Promise<string[]> {
    const rows = await this.sql.rows<{ id: string }>(
      `UPDATE message SET state = 'queued', next_attempt_at = CASE WHEN state = 'deferred' THEN now() ELSE next_attempt_at END
        WHERE state IN ('queued', 'deferred') AND id = ANY($1::text[]) RETURNING id`,
      [ids],
      tx,
    );
    return rows.map((r) => r.id);
  }

  /**
   * A whole-queue flush, in ONE statement: every deferred message becomes due now, and every
   * message being sent is marked, so that an attempt that started before the flush (say, before
   * the relay came back) and ends deferred leaves its message due at once rather than at its next
   * retry time. One statement, because an attempt can end between two: a message still 'sending'
   * for a first statement and already 'deferred' for a second would be neither flushed nor
   * marked. Here, a row whose attempt is committing is waited for and then read as it ends up.
   */
  async flushAll(tx: Conn): Promise<{ flushed: string[]; sending: number }> {
    const rows = await this.sql.rows<{ id: string; sending: boolean }>(
      `UPDATE message SET state = CASE WHEN state = 'deferred' THEN 'queued' ELSE state END,
              next_attempt_at = CASE WHEN state = 'deferred' THEN now() ELSE next_attempt_at END,
              flushed_in_flight = (state = 'sending')
        WHERE state IN ('deferred', 'sending') RETURNING id, state = 'sending' AS sending`,
      [],
      tx,
    );
    return { flushed: rows.filter((r) => !r.sending).map((r) => r.id), sending: rows.filter((r) => r.sending).length };
  }

  /**
   * Deletes every queued, deferred and held message (their bodies and storm holds with them) in
   * one statement, which also writes their fate lines (`logFates`: an INSERT from the part named
   * by its first argument, the detail in the placeholder of its second); answers how many.
   */
  async deleteAll(tx: Conn, logFates: (source: string, detail: string) => string, detail: string): Promise<number> {
    const rows = await this.sql.rows<{ n: number }>(
      `WITH deleted AS (DELETE FROM message WHERE state IN ('queued', 'deferred', 'hold') RETURNING ${FACTS}),
            ${dependentsDeletedSql('deleted')},
            logged AS (${logFates('deleted', '$1')})
       SELECT count(*)::int AS n FROM deleted`,
      [detail],
      tx,
    );
    return rows[0]!.n;
  }

  /** Removes the given messages that are queued, deferred or held (bodies and storm holds with them); messages being sent are left alone. */
  async delete(tx: Conn, ids: string[]): Promise<MessageFacts[]> {
    return this.sql.rows<MessageFacts>(
      `WITH deleted AS (DELETE FROM message WHERE state IN ('queued', 'deferred', 'hold') AND id = ANY($1::text[]) RETURNING ${FACTS}),
            ${dependentsDeletedSql('deleted')}
       SELECT * FROM deleted`,
      [ids],
      tx,
    );
  }

  async hold(tx: Conn, ids: string[]): Promise<MessageFacts[]> {
    return this.sql.rows<MessageFacts>(`UPDATE message SET state = 'hold' WHERE state IN ('queued', 'deferred') AND id = ANY($1::text[]) RETURNING ${FACTS}`, [ids], tx);
  }

  /** Held messages with this hold reason, oldest first (a few, at most: see LocalMailService). */
  async heldFor(reason: string): Promise<{ id: string; sender: string; subject: string; recipients: string[]; original_recipients: Record<string, string> | null }[]> {
    return this.sql.rows(`SELECT id, sender, subject, recipients, original_recipients FROM message WHERE state = 'hold' AND hold_reason = $1 ORDER BY created_at, id`, [reason]);
  }

  /**
   * Gives held messages new recipients and queues them (due now), each only while it is still
   * held for `reason`; one with `storm` stays held instead, held back by the alert-storm guard
   * (its storm_hold row, due with its digest). Returns the messages it changed.
   */
  async releaseWith(tx: Conn, reason: string, changes: ReleaseChange[]): Promise<MessageFacts[]> {
    const rows = changes.map((c) => ({ id: c.id, recipients: c.recipients, originals: c.originals, ...(c.storm ? { storm_reason: c.storm.reason, storm_group: c.storm.group, due_at: c.storm.dueAt, storm_error: c.storm.lastError } : {}) }));
    return this.sql.rows<MessageFacts>(
      `WITH c AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(id text, recipients text[], originals jsonb, storm_reason text, storm_group text, due_at timestamptz, storm_error text)),
       changed AS (
         UPDATE message m SET state = CASE WHEN c.storm_group IS NULL THEN 'queued' ELSE 'hold' END, recipients = c.recipients, original_recipients = c.originals,
                hold_reason = NULL, last_error = c.storm_error, next_attempt_at = coalesce(c.due_at, now())
           FROM c WHERE m.id = c.id AND m.state = 'hold' AND m.hold_reason = $2 RETURNING ${FACTS.split(', ').map((col) => `m.${col}`).join(', ')}),
       stormed AS (INSERT INTO storm_hold (id, reason, digest_key, digest_due_at) SELECT c.id, c.storm_reason, c.storm_group, c.due_at FROM c JOIN changed USING (id) WHERE c.storm_group IS NOT NULL)
       SELECT * FROM changed`,
      [JSON.stringify(rows), reason],
      tx,
    );
  }

  /** An operator's release: queued now, and out of any storm's digest for good (its storm_hold row goes), even if held again later. */
  async release(tx: Conn, ids: string[]): Promise<MessageFacts[]> {
    return this.sql.rows<MessageFacts>(
      `WITH released AS (UPDATE message SET state = 'queued', next_attempt_at = now() WHERE state = 'hold' AND hold_reason IS NULL AND id = ANY($1::text[]) RETURNING ${FACTS}),
       unheld AS (DELETE FROM storm_hold h USING released r WHERE h.id = r.id)
       SELECT * FROM released`,
      [ids],
      tx,
    );
  }

  /** Marks a message as warned about its delay, inside the caller's transaction; false when it already was (or is gone). */
  async claimDelayWarning(tx: Conn, id: string): Promise<boolean> {
    const rows = await this.sql.rows(`UPDATE message SET delay_warned_at = now() WHERE id = $1 AND delay_warned_at IS NULL RETURNING id`, [id], tx);
    return rows.length > 0;
  }

  /** The groups of held-back messages whose digest is due (a few hundred at most per call). */
  async dueStormGroups(now: Date): Promise<string[]> {
    const rows = await this.sql.rows<{ digest_key: string }>(
      `SELECT DISTINCT h.digest_key FROM storm_hold h JOIN message m ON m.id = h.id AND m.state = 'hold' WHERE h.digest_due_at <= $1 LIMIT 500`,
      [now],
    );
    return rows.map((r) => r.digest_key);
  }

  /**
   * The messages of a group still held back (and due), oldest first, locked inside the caller's
   * transaction until it has stored the digests that carry them (an operator's release or
   * delete waits, then finds them gone). Empty when another instance is writing this group's
   * digest now (a transaction-level advisory lock), or none is left.
   */
  async lockStormGroup(tx: Conn, group: string, now: Date): Promise<DigestedMessage[]> {
    const [lock] = await this.sql.rows<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok`, [DIGEST_LOCK, group], tx);
    if (!lock?.ok) return [];
    return this.sql.rows<DigestedMessage>(
      `SELECT m.id, m.sender, m.recipients, m.subject, m.created_at, m.size, h.reason, m.escalation
         FROM message m JOIN storm_hold h ON h.id = m.id
        WHERE h.digest_key = $1 AND h.digest_due_at <= $2 AND m.state = 'hold'
        ORDER BY m.created_at, m.id
          FOR UPDATE OF m`,
      [group, now],
      tx,
    );
  }

  /** The stored bodies of these messages, inside the caller's transaction: small ones a few MiB per statement, big ones in slices. */
  async heldBodies(tx: Conn, messages: { id: string; size: number }[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    let batch: string[] = [];
    let bytes = 0;
    const read = async () => {
      if (!batch.length) return;
      const rows = await this.sql.rows<{ id: string; data: Buffer }>(`SELECT id, data FROM message_body WHERE id = ANY($1::text[])`, [batch], tx);
      for (const r of rows) out.set(r.id, r.data);
      batch = [];
      bytes = 0;
    };
    for (const m of messages) {
      if (m.size > STREAMED_BODY_BYTES) {
        out.set(m.id, await this.loadBody(m.id, m.size, tx));
        continue;
      }
      if (bytes + m.size > BODIES_PER_READ) await read();
      batch.push(m.id);
      bytes += m.size;
    }
    await read();
    return out;
  }

  /** Deletes held messages (with their bodies and storm holds) inside the transaction that stores the digest carrying them. */
  async deleteDigested(tx: Conn, ids: string[]): Promise<MessageFacts[]> {
    return this.sql.rows<MessageFacts>(
      `WITH digested AS (DELETE FROM message WHERE id = ANY($1::text[]) AND state = 'hold' RETURNING ${FACTS}), ${dependentsDeletedSql('digested')}
       SELECT * FROM digested`,
      [ids],
      tx,
    );
  }

  /** Queues held messages to be delivered on their own (too big for a digest): due now, out of their storm. */
  async releaseFromStorm(tx: Conn, ids: string[]): Promise<MessageFacts[]> {
    return this.sql.rows<MessageFacts>(
      `WITH released AS (
         UPDATE message SET state = 'queued', next_attempt_at = now(), last_error = NULL WHERE id = ANY($1::text[]) AND state = 'hold' RETURNING ${FACTS}
       ), unheld AS (DELETE FROM storm_hold h USING released r WHERE h.id = r.id)
       SELECT * FROM released`,
      [ids],
      tx,
    );
  }
}
