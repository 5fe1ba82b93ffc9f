import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventLogService } from '../events/event-log.service.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import { ClaimedMessage, QueueRepository } from '../queue/queue.repository.js';
import { nextAttemptAt } from '../queue/retry-schedule.js';
import { BounceNotifier } from './bounce-notifier.js';
import { AttemptOutcome } from './outcome.js';

/** Commits one attempt's outcome: the queue row, a mail-log line per recipient, bounce events. */
@Injectable()
export class OutcomeRecorder {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly repo: QueueRepository,
    private readonly mailLog: MailLogService,
    private readonly events: EventLogService,
    private readonly notices: BounceNotifier,
  ) {}

  async record(message: ClaimedMessage, owner: string, outcome: AttemptOutcome, lifetimeHours: number): Promise<void> {
    const now = new Date();
    const attempt = message.attempts + 1;
    const createdAt = new Date(message.created_at);
    let deferred = outcome.recipients.filter((r) => r.status === 'deferred');
    const next = deferred.length ? nextAttemptAt(now, createdAt, attempt, lifetimeHours) : null;
    // Out of lifetime: whoever is still deferred bounces now.
    const expired = deferred.length > 0 && next === null;
    const rows = outcome.recipients.map((r) => {
      const expiredNow = expired && r.status === 'deferred';
      return {
        at: now,
        queueId: message.id,
        messageId: message.message_id,
        event: expiredNow ? ('bounced' as const) : r.status,
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
    if (expired) deferred = [];
    const bounced = rows.filter((r) => r.event === 'bounced');

    const committed = await this.db.transaction(async (tx) => {
      const mine = await this.repo.finishAttempt(tx, message.id, owner, {
        pending: deferred.map((r) => r.recipient),
        nextAttemptAt: next,
        lastError: deferred[0]?.reply ?? null,
      });
      if (!mine) return false; // our lease expired and someone else took the message: their outcome counts
      await this.mailLog.append(rows, tx);
      if (bounced.length) {
        await this.events.record(
          {
            level: 'warning',
            source: 'delivery',
            message: `${expired ? 'Expired' : 'Bounced'}: message ${message.id} to ${bounced.map((b) => b.recipient).join(', ')}`,
            details: { queueId: message.id, count: bounced.length, reasons: bounced.map((b) => ({ recipient: b.recipient, reply: b.reply })) },
          },
          tx,
        );
      }
      return true;
    });
    // After COMMIT: delivery status notices (bounce, optional delay warning); never throws.
    if (committed) await this.notices.afterAttempt({ message, outcome, bounced: bounced.map((b) => b.recipient), deferred: deferred.map((r) => r.recipient), expired, lifetimeHours, now });
  }
}
