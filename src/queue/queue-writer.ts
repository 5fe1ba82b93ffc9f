import { Injectable } from '@nestjs/common';
import { Batcher, ItemFailure } from '../common/batcher.js';
import { STREAMED_BODY_BYTES } from '../common/message-data.js';
import { CompositeStatement } from '../database/composite-statement.js';
import { PgNotifier, notifyCall } from '../database/pg-notifier.js';
import { Conn, Sql } from '../database/sql.js';
import { EventLogService, NewEvent } from '../events/event-log.service.js';
import { MailLogService, NewMailLogEntry } from '../mail-log/mail-log.service.js';
import type { Dispatcher } from './dispatcher.js';
import { ClaimedMessage, Finish, Handoff, NewMessage, QueueRepository } from './queue.repository.js';
import { heldEntry, receivedEntry } from './received-entry.js';

/** The end of a delivery attempt as the queue stores it: the row's fate, a mail-log line per recipient, its events (a bounce, an escalation). */
export interface FinishedAttempt {
  finish: Finish;
  lines: NewMailLogEntry[];
  events?: (NewEvent & { queueId: string })[];
}

/** A new message, and the event that goes with it (an alert storm's start), if any. */
interface NewWrite {
  message: NewMessage;
  event?: NewEvent;
}

type Write = NewWrite | { attempt: FinishedAttempt };
type Written = string | boolean;
type Run = (text: string, params: unknown[]) => Promise<{ id: string | null }[]>;

/** One statement of new messages and finished attempts, and what to tell once it has committed. */
interface Statement {
  text: string;
  params: unknown[];
  /** The new messages' 'received' lines (and 'held' lines of those stored on hold) and events (an alert storm's start). */
  received: NewMailLogEntry[];
  events: NewEvent[];
  /** The attempts' mail-log lines and events: stored only for the attempts that were still ours. */
  lines: NewMailLogEntry[];
  attemptEvents: (NewEvent & { queueId: string })[];
}

/** How long a finished attempt may wait for a new message's commit to ride along with. */
const LINGER_MS = 5;

/**
 * The queue's hot path, and its only way in: every new message (intake, held back or not;
 * notices; digests) and every finished attempt (delivery) is written here, and what comes
 * together is committed together — ONE statement (data-modifying CTEs) for new messages, their
 * bodies, storm holds, 'received' lines and events, and for attempts' queue rows, mail-log lines
 * and bounce events. New messages are committed at once (their 250 waits); a finished attempt
 * lingers a few milliseconds for the next one, so a steady stream of mail costs one commit, not
 * two, per message.
 */
@Injectable()
export class QueueWriter {
  private readonly batcher: Batcher<Write, Written>;
  private dispatcher?: Dispatcher;

  constructor(
    private readonly sql: Sql,
    private readonly repo: QueueRepository,
    private readonly mailLog: MailLogService,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
  ) {
    this.batcher = new Batcher((batch) => this.write(batch), { maxBatch: 200, maxConcurrent: 2, lingerMs: LINGER_MS });
  }

  /** New messages go straight to this worker, as far as it has room (see Dispatcher). */
  attachDispatcher(dispatcher: Dispatcher): void {
    this.dispatcher = dispatcher;
  }

  /** Stores a message durably (with `event`, in the same commit); resolves with its queue id only after COMMIT. */
  enqueue(message: NewMessage, event?: NewEvent): Promise<string> {
    return this.batcher.add({ message, event }) as Promise<string>;
  }

  /**
   * Stores a message inside the caller's transaction (a digest, with the removal of the messages
   * it replaces): the statement enqueue writes, run on that transaction; the message is 'queued'
   * for whichever worker claims it, and the workers are woken once the transaction commits.
   * A big one's body is streamed after its row, as a big new message's is.
   */
  async enqueueIn(tx: Conn, message: NewMessage, event?: NewEvent): Promise<void> {
    const streamed = message.data.length > STREAMED_BODY_BYTES;
    const st = this.statement([{ message, event }], [], new Date(), undefined, true, !streamed);
    await this.sql.prepared(st.text, st.params, tx);
    if (streamed) await this.repo.streamBody(tx, message.id, message.data);
    this.sql.afterCommit(tx, () => this.committed(st, new Set(), true));
  }

  /** Mail-log lines of a state change made in the caller's transaction (a digest's carried messages), committed with it. */
  logIn(tx: Conn, lines: NewMailLogEntry[]): Promise<void> {
    return this.mailLog.appendIn(tx, lines);
  }

  /** Commits an attempt's end; false when the lease was no longer ours (nothing recorded: another worker's outcome counts). */
  finish(attempt: FinishedAttempt): Promise<boolean> {
    return this.batcher.add({ attempt }, true) as Promise<boolean>;
  }

  private async write(batch: Write[]): Promise<(Written | ItemFailure)[]> {
    const results = new Map<Write, Written | ItemFailure>();
    const small = batch.filter((w): w is NewWrite => 'message' in w && w.message.data.length <= STREAMED_BODY_BYTES);
    const big = batch.filter((w): w is NewWrite => 'message' in w && w.message.data.length > STREAMED_BODY_BYTES);
    const attempts = batch.filter((w): w is { attempt: FinishedAttempt } => 'attempt' in w);
    await Promise.all([
      this.writeTogether(small, attempts, results),
      ...big.map((w) => this.commitStreamed(w).then(() => results.set(w, w.message.id), (err: unknown) => results.set(w, new ItemFailure(err)))),
    ]);
    return batch.map((w) => results.get(w)!);
  }

  /** Small new messages and attempts in one statement; when it is refused, apart, so that the cause fails only its own kind. */
  private async writeTogether(messages: NewWrite[], attempts: { attempt: FinishedAttempt }[], results: Map<Write, Written | ItemFailure>): Promise<void> {
    if (!messages.length && !attempts.length) return;
    const setAttempts = (ours: Set<string> | ItemFailure) => attempts.forEach((w) => results.set(w, ours instanceof ItemFailure ? ours : ours.has(w.attempt.finish.id)));
    const setMessages = (failed?: ItemFailure) => messages.forEach((w) => results.set(w, failed ?? w.message.id));
    const a = attempts.map((w) => w.attempt);
    try {
      setAttempts(await this.commit(messages, a));
      setMessages();
    } catch (err) {
      if (!messages.length || !a.length) {
        setAttempts(new ItemFailure(err));
        return setMessages(new ItemFailure(err));
      }
      const [mr, ar] = await Promise.allSettled([this.commit(messages, []), this.commit([], a)]);
      setMessages(mr.status === 'rejected' ? new ItemFailure(mr.reason) : undefined);
      setAttempts(ar.status === 'fulfilled' ? ar.value : new ItemFailure(ar.reason));
    }
  }

  /** A big message in a transaction of its own: the statement without its body, then the body streamed with COPY. */
  private async commitStreamed(write: NewWrite): Promise<void> {
    await this.commit([write], [], (text, params) =>
      this.sql.transaction(async (tx) => {
        const rows = await this.sql.prepared<{ id: string | null }>(text, params, tx);
        await this.repo.streamBody(tx, write.message.id, write.message.data);
        return rows;
      }),
    );
  }

  /**
   * One statement. New messages: what the local worker takes is committed claimed and handed
   * over after the commit; only when some are left 'queued' does a NOTIFY tell the others.
   * Attempts: each counts only while its lease is ours. Resolves with the attempts that were.
   * `streamed` runs the statement instead, for a big message whose body it adds itself.
   */
  private async commit(batch: NewWrite[], attempts: FinishedAttempt[], streamed?: Run): Promise<Set<string>> {
    const now = new Date();
    const d = this.dispatcher;
    // Held messages last: the handoff takes the first ones, and never a held one.
    const writes = batch.some((w) => w.message.held) ? [...batch.filter((w) => !w.message.held), ...batch.filter((w) => w.message.held)] : batch;
    const deliverable = writes.filter((w) => !w.message.held).length;
    const taken = d && deliverable ? d.reserve(deliverable) : 0;
    const queued = taken < deliverable;
    const st = this.statement(writes, attempts, now, d && taken ? { owner: d.owner, leaseSeconds: d.leaseSeconds, count: taken } : undefined, queued, !streamed);
    let rows: { id: string | null }[];
    try {
      rows = await (streamed ?? ((t, p) => this.sql.prepared<{ id: string | null }>(t, p)))(st.text, st.params);
    } catch (err) {
      if (taken) d!.cancel(taken);
      throw err;
    }
    const ours = new Set(rows.flatMap((r) => (r.id === null ? [] : [r.id])));
    if (taken) d!.take(writes.slice(0, taken).map((w) => claimedNow(w.message, now)));
    this.committed(st, ours, queued);
    return ours;
  }

  /**
   * The statement of new messages (with their bodies unless `bodies` is false: a big one's is
   * streamed) and finished attempts. It notifies the other workers when an attempt flushed while
   * in flight is due again, and when `wake` says new messages were left 'queued'.
   */
  private statement(writes: NewWrite[], attempts: FinishedAttempt[], now: Date, handoff: Handoff | undefined, wake: boolean, bodies = true): Statement {
    const st = new CompositeStatement();
    const messages = writes.map((w) => w.message);
    // A message stored on hold (a storm's, local mail with nowhere to go) says so in the mail log, right after its reception.
    const received = messages.flatMap((m) => {
      const held = heldEntry(m, now);
      return held ? [receivedEntry(m, now), held] : [receivedEntry(m, now)];
    });
    const events = writes.flatMap((w) => (w.event ? [w.event] : []));
    const lines = attempts.flatMap((a) => a.lines);
    const attemptEvents = attempts.flatMap((a) => a.events ?? []);
    const selects: string[] = [];
    if (messages.length) {
      this.repo.insertInto(st, messages, now, handoff, { bodies });
      this.mailLog.insertInto(st, 'received', received);
      if (events.length) this.events.insertInto(st, 'message_events', events);
    }
    if (attempts.length) {
      const mine = this.repo.finishInto(st, attempts.map((a) => a.finish));
      this.mailLog.insertInto(st, 'lines', lines, mine);
      if (attemptEvents.length) this.events.insertInto(st, 'attempt_events', attemptEvents, mine);
      selects.push(`SELECT id FROM ${mine}`);
      // An attempt flushed while in flight that ended deferred is due again now: the workers are told.
      selects.push(`SELECT NULL FROM ${notifyCall('postroom_wakeup')} WHERE ${this.repo.dueAgain}`);
    }
    if (messages.length) selects.push(`SELECT NULL FROM ${notifyCall('postroom_wakeup')} WHERE ${st.p(wake, 'boolean')}`);
    return { text: st.text(selects.join(' UNION ALL ')), params: st.params, received, lines, events, attemptEvents };
  }

  /** After the commit: the metrics and log lines of what was stored, and this instance's workers woken when mail was left queued. */
  private committed(st: Statement, ours: Set<string>, queued: boolean): void {
    this.mailLog.counted([...st.received, ...st.lines.filter((l) => ours.has(l.queueId!))]);
    this.events.written([...st.events, ...st.attemptEvents.filter((e) => ours.has(e.queueId))]);
    if (queued) this.notifier.notifyLocal('postroom_wakeup', 'local');
  }
}

/** A message just committed as claimed, as a claim would have read it back. */
function claimedNow(m: NewMessage, now: Date): ClaimedMessage {
  return {
    id: m.id,
    state: 'sending',
    sender: m.sender,
    recipients: m.recipients,
    subject: m.subject,
    message_id: m.messageId,
    size: m.data.length,
    client_address: m.clientAddress,
    created_at: m.receivedAt ?? now,
    next_attempt_at: now,
    attempts: 0,
    last_error: null,
    original_recipients: m.originalRecipients ?? null,
    hold_reason: null,
    escalation: m.escalation?.length ? m.escalation : null,
    data: m.data,
  };
}
