import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../common/batcher.js';
import { CompositeStatement } from '../database/composite-statement.js';
import { preparedRows } from '../database/sql.js';
import { EventLogService, NewEvent } from '../events/event-log.service.js';
import { MailLogService, NewMailLogEntry } from '../mail-log/mail-log.service.js';
import { ClaimedMessage, Finish, QueueRepository } from '../queue/queue.repository.js';
import { nextAttemptAt } from '../queue/retry-schedule.js';
import { BounceNotifier } from './bounce-notifier.js';
import { AttemptOutcome } from './outcome.js';

/** What one attempt commits: the queue row's end, a mail-log line per recipient, a bounce event. */
export interface AttemptRecord {
  finish: Finish;
  entries: NewMailLogEntry[];
  event?: NewEvent & { queueId: string };
  bounced: string[];
  deferred: string[];
  expired: boolean;
}

/** Works out what an attempt commits (pure): retry time, expiry at the end of the lifetime, the lines. */
export function attemptRecord(message: ClaimedMessage, owner: string, outcome: AttemptOutcome, lifetimeHours: number, now: Date): AttemptRecord {
  const attempt = message.attempts + 1;
  const createdAt = new Date(message.created_at);
  const waiting = outcome.recipients.filter((r) => r.status === 'deferred');
  const next = waiting.length ? nextAttemptAt(now, createdAt, attempt, lifetimeHours) : null;
  // Out of lifetime: whoever is still deferred bounces now.
  const expired = waiting.length > 0 && next === null;
  const entries: NewMailLogEntry[] = outcome.recipients.map((r) => {
    const expiredNow = expired && r.status === 'deferred';
    return {
      at: now,
      queueId: message.id,
      messageId: message.message_id,
      event: expiredNow ? 'bounced' : r.status,
      sender: message.sender,
      recipient: r.recipient,
      relay: outcome.relay,
      size: message.size,
      delayMs: now.getTime() - createdAt.getTime(),
      attempt,
      reply: expiredNow ? `message expired after ${lifetimeHours} h in the queue; last error: ${r.reply}` : r.reply,
      subject: message.subject,
    };
  });
  const deferred = expired ? [] : waiting.map((r) => r.recipient);
  const bounced = entries.filter((e) => e.event === 'bounced');
  return {
    finish: { id: message.id, owner, pending: deferred, nextAttemptAt: expired ? null : next, lastError: expired ? null : (waiting[0]?.reply ?? null) },
    entries,
    event: bounced.length
      ? {
          level: 'warning',
          source: 'delivery',
          message: `${expired ? 'Expired' : 'Bounced'}: message ${message.id} to ${bounced.map((b) => b.recipient).join(', ')}`,
          details: { queueId: message.id, count: bounced.length, reasons: bounced.map((b) => ({ recipient: b.recipient, reply: b.reply })) },
          queueId: message.id,
        }
      : undefined,
    bounced: bounced.map((b) => b.recipient),
    deferred,
    expired,
  };
}

/**
 * Commits attempts' outcomes. Attempts that end while a commit is running go together in the
 * next one (group commit, as at intake): the queue rows, the mail-log lines and the bounce
 * events of the whole batch in ONE statement — each attempt counted only while its worker still
 * held the lease (otherwise another worker took the message, and its outcome counts).
 */
@Injectable()
export class OutcomeRecorder {
  private readonly batcher: Batcher<AttemptRecord, boolean>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly repo: QueueRepository,
    private readonly mailLog: MailLogService,
    private readonly events: EventLogService,
    private readonly notices: BounceNotifier,
  ) {
    this.batcher = new Batcher((batch) => this.commit(batch), { maxBatch: 200, maxConcurrent: 2 });
  }

  /** Resolves once the outcome is committed (false: the lease was no longer ours, nothing recorded) and any notice is queued. */
  async record(message: ClaimedMessage, owner: string, outcome: AttemptOutcome, lifetimeHours: number): Promise<boolean> {
    const now = new Date();
    const rec = attemptRecord(message, owner, outcome, lifetimeHours, now);
    const committed = await this.batcher.add(rec);
    // After COMMIT: delivery status notices (bounce, optional delay warning); never throws.
    if (committed && (rec.bounced.length || rec.deferred.length)) {
      await this.notices.afterAttempt({ message, outcome, bounced: rec.bounced, deferred: rec.deferred, expired: rec.expired, lifetimeHours, now });
    }
    return committed;
  }

  private async commit(batch: AttemptRecord[]): Promise<boolean[]> {
    const st = new CompositeStatement();
    const mine = this.repo.finishInto(st, batch.map((r) => r.finish));
    this.mailLog.insertInto(st, 'lines', batch.flatMap((r) => r.entries), mine);
    const events = batch.flatMap((r) => (r.event ? [r.event] : []));
    if (events.length) this.events.insertInto(st, 'bounces', events, mine);
    const rows = await preparedRows<{ id: string }>(this.db, st.text(`SELECT id FROM ${mine}`), st.params);
    const ours = new Set(rows.map((r) => r.id));
    const committed = batch.filter((r) => ours.has(r.finish.id));
    this.mailLog.counted(committed.flatMap((r) => r.entries));
    this.events.written(committed.flatMap((r) => (r.event ? [r.event] : [])));
    return batch.map((r) => ours.has(r.finish.id));
  }
}
