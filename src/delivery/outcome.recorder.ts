import { Injectable } from '@nestjs/common';
import type { MessageData } from '../common/message-data.js';
import { NewMailLogEntry } from '../mail-log/mail-log.service.js';
import { FinishedAttempt, QueueWriter } from '../queue/queue-writer.js';
import { ClaimedMessage } from '../queue/queue.repository.js';
import { nextAttemptAt } from '../queue/retry-schedule.js';
import { BounceNotifier } from './bounce-notifier.js';
import { AttemptOutcome } from './outcome.js';

/** What one attempt commits (the queue row's end, a mail-log line per recipient, a bounce event) and who it leaves where. */
export interface AttemptRecord extends FinishedAttempt {
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
  const lines: NewMailLogEntry[] = outcome.recipients.map((r) => {
    const expiredNow = expired && r.status === 'deferred';
    return {
      at: now,
      queueId: message.id,
      messageId: message.message_id,
      event: expiredNow ? 'bounced' : r.status,
      sender: message.sender,
      recipient: r.recipient,
      originalRecipient: message.original_recipients?.[r.recipient] ?? null,
      relay: outcome.relay,
      size: message.size,
      delayMs: now.getTime() - createdAt.getTime(),
      attempt,
      reply: expiredNow ? `message expired after ${lifetimeHours} h in the queue; last error: ${r.reply}` : r.reply,
      subject: message.subject,
    };
  });
  const deferred = expired ? [] : waiting.map((r) => r.recipient);
  const bounced = lines.filter((e) => e.event === 'bounced');
  return {
    finish: { id: message.id, owner, pending: deferred, nextAttemptAt: expired ? null : next, lastError: expired ? null : (waiting[0]?.reply ?? null) },
    lines,
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
 * Commits attempts' outcomes through the queue's writer (with new mail where there is some:
 * one commit for both), then sends the notices the outcome calls for.
 */
@Injectable()
export class OutcomeRecorder {
  constructor(
    private readonly writer: QueueWriter,
    private readonly notices: BounceNotifier,
  ) {}

  /** Resolves once the outcome is committed (false: the lease was no longer ours, nothing recorded) and any notice is queued. */
  async record(message: ClaimedMessage & { data: MessageData }, owner: string, outcome: AttemptOutcome, lifetimeHours: number): Promise<boolean> {
    const now = new Date();
    const rec = attemptRecord(message, owner, outcome, lifetimeHours, now);
    const committed = await this.writer.finish(rec);
    // After COMMIT: delivery status notices (bounce, optional delay warning); never throws.
    if (committed && (rec.bounced.length || rec.deferred.length)) {
      await this.notices.afterAttempt({ message, outcome, bounced: rec.bounced, deferred: rec.deferred, expired: rec.expired, lifetimeHours, now });
    }
    return committed;
  }
}
