import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher, ItemFailure } from '../common/batcher.js';
import { CompositeStatement } from '../database/composite-statement.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { pgTransaction, preparedRows } from '../database/sql.js';
import { EventLogService, NewEvent } from '../events/event-log.service.js';
import { MailLogService, NewMailLogEntry } from '../mail-log/mail-log.service.js';
import type { Dispatcher } from './dispatcher.js';
import { ClaimedMessage, Finish, NewMessage, QueueRepository } from './queue.repository.js';
import { STREAMED_BODY_BYTES } from '../common/message-data.js';
import { receivedEntry } from './received-entry.js';

/** The end of a delivery attempt as the queue stores it: the row's fate, a mail-log line per recipient, a bounce event. */
export interface FinishedAttempt {
  finish: Finish;
  lines: NewMailLogEntry[];
  event?: NewEvent & { queueId: string };
}

type Write = { message: NewMessage } | { attempt: FinishedAttempt };
type Written = string | boolean;
type Run = (text: string, params: unknown[]) => Promise<{ id: string | null }[]>;

/** How long a finished attempt may wait for a new message's commit to ride along with. */
const LINGER_MS = 5;

/**
 * The queue's hot path: every new message (intake) and every finished attempt (delivery) is
 * written here, and what comes together is committed together — ONE statement (data-modifying
 * CTEs) for new messages, their bodies and 'received' lines, and for attempts' queue rows,
 * mail-log lines and bounce events. New messages are committed at once (their 250 waits);
 * a finished attempt lingers a few milliseconds for the next one, so a steady stream of mail
 * costs one commit, not two, per message.
 */
@Injectable()
export class QueueWriter {
  private readonly batcher: Batcher<Write, Written>;
  private dispatcher?: Dispatcher;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
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

  /** Stores a message durably; resolves with its queue id only after COMMIT. */
  enqueue(message: NewMessage): Promise<string> {
    return this.batcher.add({ message }) as Promise<string>;
  }

  /** Commits an attempt's end; false when the lease was no longer ours (nothing recorded: another worker's outcome counts). */
  finish(attempt: FinishedAttempt): Promise<boolean> {
    return this.batcher.add({ attempt }, true) as Promise<boolean>;
  }

  private async write(batch: Write[]): Promise<(Written | ItemFailure)[]> {
    const results = new Map<Write, Written | ItemFailure>();
    const small = batch.filter((w): w is { message: NewMessage } => 'message' in w && w.message.data.length <= STREAMED_BODY_BYTES);
    const big = batch.filter((w): w is { message: NewMessage } => 'message' in w && w.message.data.length > STREAMED_BODY_BYTES);
    const attempts = batch.filter((w): w is { attempt: FinishedAttempt } => 'attempt' in w);
    await Promise.all([
      this.writeTogether(small, attempts, results),
      ...big.map((w) => this.commitStreamed(w.message).then(() => results.set(w, w.message.id), (err: unknown) => results.set(w, new ItemFailure(err)))),
    ]);
    return batch.map((w) => results.get(w)!);
  }

  /** Small new messages and attempts in one statement; when it is refused, apart, so that the cause fails only its own kind. */
  private async writeTogether(messages: { message: NewMessage }[], attempts: { attempt: FinishedAttempt }[], results: Map<Write, Written | ItemFailure>): Promise<void> {
    if (!messages.length && !attempts.length) return;
    const setAttempts = (ours: Set<string> | ItemFailure) => attempts.forEach((w) => results.set(w, ours instanceof ItemFailure ? ours : ours.has(w.attempt.finish.id)));
    const setMessages = (failed?: ItemFailure) => messages.forEach((w) => results.set(w, failed ?? w.message.id));
    const m = messages.map((w) => w.message);
    const a = attempts.map((w) => w.attempt);
    try {
      setAttempts(await this.commit(m, a));
      setMessages();
    } catch (err) {
      if (!m.length || !a.length) {
        setAttempts(new ItemFailure(err));
        return setMessages(new ItemFailure(err));
      }
      const [mr, ar] = await Promise.allSettled([this.commit(m, []), this.commit([], a)]);
      setMessages(mr.status === 'rejected' ? new ItemFailure(mr.reason) : undefined);
      setAttempts(ar.status === 'fulfilled' ? ar.value : new ItemFailure(ar.reason));
    }
  }

  /** A big message in a transaction of its own: the statement without its body, then the body streamed with COPY. */
  private async commitStreamed(message: NewMessage): Promise<void> {
    await this.commit([message], [], (text, params) =>
      pgTransaction(this.db, async (client) => {
        const { rows } = await client.query<{ id: string | null }>(text, params);
        await this.repo.streamBody(client, message.id, message.data);
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
  private async commit(batch: NewMessage[], attempts: FinishedAttempt[], streamed?: Run): Promise<Set<string>> {
    const now = new Date();
    const st = new CompositeStatement();
    const d = this.dispatcher;
    // Held messages last: the handoff takes the first ones, and never a held one.
    const messages = batch.some((m) => m.held) ? [...batch.filter((m) => !m.held), ...batch.filter((m) => m.held)] : batch;
    const deliverable = messages.filter((m) => !m.held).length;
    const taken = d && deliverable ? d.reserve(deliverable) : 0;
    const received = messages.map((m) => receivedEntry(m, now));
    const selects: string[] = [];
    if (messages.length) {
      this.repo.insertInto(st, messages, now, d && taken ? { owner: d.owner, leaseSeconds: d.leaseSeconds, count: taken } : undefined, { bodies: !streamed });
      this.mailLog.insertInto(st, 'received', received);
    }
    const lines = attempts.flatMap((a) => a.lines);
    const events = attempts.flatMap((a) => (a.event ? [a.event] : []));
    if (attempts.length) {
      const mine = this.repo.finishInto(st, attempts.map((a) => a.finish));
      this.mailLog.insertInto(st, 'lines', lines, mine);
      if (events.length) this.events.insertInto(st, 'bounces', events, mine);
      selects.push(`SELECT id FROM ${mine}`);
      // An attempt flushed while in flight that ended deferred is due again now: the workers are told.
      selects.push(`SELECT NULL FROM pg_notify('postroom_wakeup', '') WHERE ${this.repo.dueAgain}`);
    }
    const queued = taken < deliverable;
    if (messages.length) selects.push(`SELECT NULL FROM pg_notify('postroom_wakeup', '') WHERE ${st.p(queued, 'boolean')}`);
    let rows: { id: string | null }[];
    try {
      const text = st.text(selects.join(' UNION ALL '));
      rows = await (streamed ?? ((t, p) => preparedRows(this.db, t, p)))(text, st.params);
    } catch (err) {
      if (taken) d!.cancel(taken);
      throw err;
    }
    const ours = new Set(rows.flatMap((r) => (r.id === null ? [] : [r.id])));
    this.mailLog.counted([...received, ...lines.filter((l) => ours.has(l.queueId!))]);
    this.events.written(events.filter((e) => ours.has(e.queueId)));
    if (taken) d!.take(messages.slice(0, taken).map((m) => claimedNow(m, now)));
    if (queued) this.notifier.notifyLocal('postroom_wakeup', 'local');
    return ours;
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
    data: m.data,
  };
}
