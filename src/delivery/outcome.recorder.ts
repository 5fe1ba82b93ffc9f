import { Injectable } from '@nestjs/common';
import { channelIdOf, channelRecipient, isChannelRecipient } from '../common/channel-recipient.js';
import type { EscalationStep } from '../common/escalation.js';
import type { MessageData } from '../common/message-data.js';
import { ChannelsService } from '../channels/channels.service.js';
import { NewMailLogEntry } from '../mail-log/mail-log.service.js';
import { FinishedAttempt, QueueWriter } from '../queue/queue-writer.js';
import { ClaimedMessage } from '../queue/queue.repository.js';
import { nextAttemptAt } from '../queue/retry-schedule.js';
import { BounceNotifier } from './bounce-notifier.js';
import { AttemptOutcome, RecipientOutcome } from './outcome.js';

/** What one attempt commits (the queue row's end, a mail-log line per recipient, its events) and who it leaves where. */
export interface AttemptRecord extends FinishedAttempt {
  bounced: string[];
  deferred: string[];
  expired: boolean;
}

/** Works out what an attempt commits (pure): retry time, expiry at the end of the lifetime, escalation to channels, the lines. */
export function attemptRecord(message: ClaimedMessage, owner: string, outcome: AttemptOutcome, lifetimeHours: number, now: Date, channelNames?: ReadonlyMap<number, string>): AttemptRecord {
  const attempt = message.attempts + 1;
  const createdAt = new Date(message.created_at);
  const waiting = outcome.recipients.filter((r) => r.status === 'deferred');
  const next = waiting.length ? retryAt(waiting, now, createdAt, attempt, lifetimeHours) : null;
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
      relay: r.relay ?? outcome.relay,
      size: message.size,
      delayMs: now.getTime() - createdAt.getTime(),
      attempt,
      reply: expiredNow ? `message expired after ${lifetimeHours} h in the queue; last error: ${r.reply}` : r.reply,
      subject: message.subject,
    };
  });
  const deferred = expired ? [] : waiting.map((r) => r.recipient);
  const bounced = lines.filter((e) => e.event === 'bounced');
  const escalation = escalate(message, lines, now);
  const events: AttemptRecord['events'] = [];
  if (bounced.length) {
    events.push({
      level: 'warning',
      source: 'delivery',
      message: `${expired ? 'Expired' : 'Bounced'}: message ${message.id} to ${bounced.map((b) => b.recipient).join(', ')}`,
      details: { queueId: message.id, count: bounced.length, reasons: bounced.map((b) => ({ recipient: b.recipient, reply: b.reply })) },
      queueId: message.id,
    });
  }
  if (escalation?.added.length) {
    events.push({
      level: 'warning',
      source: 'delivery',
      message: `Mail did not deliver message ${message.id}: sent to ${escalation.added.map((r) => channelNames?.get(channelIdOf(r)!) ?? r).join(', ')} by rule ${escalation.rules.join(', ')}`,
      details: { queueId: message.id, channels: escalation.added, rules: escalation.rules },
      queueId: message.id,
    });
  }
  const pending = [...deferred, ...(escalation?.added ?? [])];
  // Channels just added go at once; otherwise no later than the next escalation step.
  let nextAt = expired ? null : next;
  if (escalation?.added.length) nextAt = now;
  else if (nextAt && escalation?.dueAt && escalation.dueAt < nextAt) nextAt = escalation.dueAt;
  return {
    finish: {
      id: message.id,
      owner,
      pending,
      nextAttemptAt: pending.length ? nextAt : null,
      lastError: deferred.length ? (waiting[0]?.reply ?? null) : null,
      ...(escalation ? { escalation: escalation.remaining } : {}),
    },
    lines,
    events,
    bounced: bounced.map((b) => b.recipient),
    deferred,
    expired,
  };
}

/** Attempts that a channel's Retry-After may bring forward; later ones wait for the backoff at least. */
const QUICK_RETRIES = 5;

/**
 * When the waiting recipients are tried again: after the backoff, or — when every one of them
 * is a channel that said Retry-After — then (at least a second on; after QUICK_RETRIES
 * attempts, no sooner than the backoff: a service that keeps saying "0" would otherwise be
 * posted to every few seconds for the whole lifetime); null past the lifetime.
 */
function retryAt(waiting: RecipientOutcome[], now: Date, createdAt: Date, attempt: number, lifetimeHours: number): Date | null {
  const next = nextAttemptAt(now, createdAt, attempt, lifetimeHours);
  if (!next || !waiting.every((r) => r.retryAfterMs !== undefined)) return next;
  const wait = Math.max(1000, ...waiting.map((r) => r.retryAfterMs!));
  const at = attempt < QUICK_RETRIES ? now.getTime() + wait : Math.max(now.getTime() + wait, next.getTime());
  return new Date(Math.min(at, createdAt.getTime() + lifetimeHours * 3_600_000));
}

/**
 * The escalation steps this attempt takes (see EscalationStep): a step is due when mail bounced
 * a recipient, or left one waiting `afterMinutes` after the message arrived. Its channels join
 * the recipients (sent at once); the steps not yet due stay, and the next attempt comes no later
 * than the first of them. Undefined when the message has no steps or mail has not failed.
 */
function escalate(message: ClaimedMessage, lines: NewMailLogEntry[], now: Date): { added: string[]; rules: string[]; remaining: EscalationStep[]; dueAt?: Date } | undefined {
  const steps = message.escalation;
  const mail = lines.filter((l) => !isChannelRecipient(l.recipient));
  const failed = mail.filter((l) => l.event !== 'sent');
  if (!steps?.length || !failed.length) return undefined;
  const bounced = failed.some((l) => l.event === 'bounced');
  const age = now.getTime() - new Date(message.created_at).getTime();
  const due = steps.filter((s) => bounced || age >= s.afterMinutes * 60_000);
  const remaining = steps.filter((s) => !due.includes(s));
  const have = new Set([...message.recipients]);
  const added = [...new Set(due.flatMap((s) => s.channels.map(channelRecipient)))].filter((r) => !have.has(r));
  const firstDue = remaining.length ? Math.min(...remaining.map((s) => s.afterMinutes)) : undefined;
  return {
    added,
    rules: due.map((s) => s.rule),
    remaining,
    ...(firstDue !== undefined ? { dueAt: new Date(new Date(message.created_at).getTime() + firstDue * 60_000) } : {}),
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
    private readonly channels: ChannelsService,
  ) {}

  /** Resolves once the outcome is committed (false: the lease was no longer ours, nothing recorded) and any notice is queued. */
  async record(message: ClaimedMessage & { data: MessageData }, owner: string, outcome: AttemptOutcome, lifetimeHours: number): Promise<boolean> {
    const now = new Date();
    // The channels' names for an escalation's event: read only for a message that has steps.
    const names = message.escalation?.length ? await this.channels.names().catch(() => undefined) : undefined;
    const rec = attemptRecord(message, owner, outcome, lifetimeHours, now, names);
    const committed = await this.writer.finish(rec);
    // After COMMIT: delivery status notices (bounce, optional delay warning) for mail recipients; never throws.
    const bounced = rec.bounced.filter((r) => !isChannelRecipient(r));
    const deferred = rec.deferred.filter((r) => !isChannelRecipient(r));
    if (committed && (bounced.length || deferred.length)) {
      await this.notices.afterAttempt({ message, outcome, bounced, deferred, expired: rec.expired, lifetimeHours, now });
    }
    return committed;
  }
}
