import { Inject, Injectable, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Logger } from 'pino';
import { formatMailbox } from '../common/address.js';
import { appTimeZone } from '../common/timezone.js';
import { Conn, Sql } from '../database/sql.js';
import type { NewEvent } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { newQueueId } from '../queue/queue-id.js';
import { QueueWriter } from '../queue/queue-writer.js';
import { NewMessage, QueueRepository } from '../queue/queue.repository.js';
import { SettingsService } from '../settings/settings.service.js';
import { digestText } from './storm-digest.js';
import { StormGuard, StormVerdict } from './storm-guard.js';

type Held = Extract<StormVerdict, { hold: true }>;

/**
 * Alert-storm protection around the queue. A held message is stored exactly like any other
 * (QueueWriter, group-committed; the 250 comes after COMMIT) but on hold, with the reason as
 * its last error and a storm_hold row naming its digest: it is listed in the queue, can be
 * released or deleted by the operator, and is never lost. At the end of its window one digest
 * message replaces every message of the same group still held, in one transaction (held rows
 * out, digest in, event with their queue ids), so each accepted message is delivered,
 * summarised or deleted by someone — and the event log says which. This module decides and
 * writes the text; the queue module stores.
 */
@Injectable()
export class StormService {
  readonly guard = new StormGuard();
  private readonly log: Logger;
  private sweeping = false;

  constructor(
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly sql: Sql,
    private readonly repo: QueueRepository,
    private readonly writer: QueueWriter,
    private readonly settings: SettingsService,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.log = root.child({ module: 'storm' });
  }

  /** Whether this message goes through or is held (in memory, no I/O). */
  check(message: { sender: string; recipients: string[]; subject: string }, settings: { stormWindowMinutes: number; stormMaxDuplicates: number; senderRateLimitPerMinute: number }): StormVerdict {
    return this.guard.check(message, settings);
  }

  /** Takes back a check() whose message was not stored after all. */
  forget(message: { sender: string; recipients: string[]; subject: string }, settings: { stormWindowMinutes: number; stormMaxDuplicates: number; senderRateLimitPerMinute: number }, verdict: StormVerdict): void {
    this.guard.forget(message, settings, verdict);
  }

  /** Stores a held message (with the storm's first event); resolves with its queue id after COMMIT, like QueueService.enqueue. */
  async hold(message: NewMessage, verdict: Held): Promise<string> {
    const tz = appTimeZone();
    const held = { lastError: holdReason(verdict, tz), storm: { reason: verdict.reason, group: verdict.digestKey, dueAt: verdict.dueAt } };
    const id = await this.writer.enqueue({ ...message, held }, verdict.first ? stormStarted(message, verdict, tz) : undefined);
    this.metrics?.heldBackMessage(verdict.reason);
    this.log.info({ queueId: id, reason: verdict.reason, digestDueAt: verdict.dueAt.toISOString() }, 'message held back (alert storm)');
    return id;
  }

  @Interval('storm-digests', 5000)
  async tick(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      await this.sendDueDigests();
      this.guard.prune();
    } catch (err) {
      this.log.error({ err }, 'storm digests: could not send; retrying shortly');
    } finally {
      this.sweeping = false;
    }
  }

  /** Replaces every group of held messages whose window has ended with one digest each; resolves with their queue ids. */
  async sendDueDigests(now = new Date()): Promise<string[]> {
    const sent: string[] = [];
    for (const group of await this.repo.dueStormGroups(now)) {
      const done = await this.sql.transaction((tx) => this.digest(tx, group, now));
      if (!done) continue;
      sent.push(done.id);
      this.metrics?.digestQueued();
      this.log.info({ queueId: done.id, count: done.count }, 'alert storm digest queued');
    }
    return sent;
  }

  private async digest(tx: Conn, group: string, now: Date): Promise<{ id: string; count: number } | null> {
    const held = await this.repo.takeStormGroup(tx, group, now);
    if (held.length === 0) return null; // gone, or another instance is on it
    held.sort((a, b) => (a.id < b.id ? -1 : 1));
    const s = await this.settings.get();
    const first = held[0]!;
    const reason = first.reason;
    const recipients = first.recipients;
    const tz = appTimeZone();
    const d = digestText({
      reason,
      sender: first.sender,
      recipients,
      held: held.map((h) => ({ id: h.id, subject: h.subject, createdAt: new Date(h.created_at) })),
      limit: reason === 'duplicate' ? s.stormMaxDuplicates : s.senderRateLimitPerMinute,
      windowMinutes: reason === 'duplicate' ? s.stormWindowMinutes : 1,
      timeZone: tz,
    });
    const fromAddress = s.fromAddress || first.sender;
    const hostname = await this.settings.heloName();
    const messageId = `<${randomUUID()}@${hostname}>`;
    const data = await new MailComposer({
      from: s.fromAddress ? formatMailbox(s.fromName, s.fromAddress) : first.sender || undefined,
      to: recipients,
      subject: d.subject,
      text: d.text,
      messageId,
      date: now,
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Postroom-Digest': String(held.length) },
    })
      .compile()
      .build();
    const digest: NewMessage = { id: newQueueId(), sender: fromAddress, recipients, subject: d.subject, messageId, clientAddress: null, data };
    await this.writer.enqueueIn(tx, digest, {
      level: 'info',
      source: 'queue',
      message: `Alert storm digest ${digest.id} to ${recipients.join(', ')}: ${d.lines.join('; ')}`,
      details: { queueId: digest.id, reason, sender: first.sender, recipients, count: held.length, summary: d.lines, heldQueueIds: held.map((h) => h.id).join(' ') },
    });
    return { id: digest.id, count: held.length };
  }
}

/** The event of a storm's first held message: what is held back, why, and when the digest comes. */
function stormStarted(m: NewMessage, v: Held, tz: string): NewEvent {
  return {
    level: 'warning',
    source: 'listener',
    message: `Alert storm: messages from ${m.sender || '<>'} to ${m.recipients.join(', ')}${v.reason === 'duplicate' ? ` with subject '${m.subject}'` : ''} held back (${reasonText(v)}); one digest at ${clockAt(v.dueAt, tz)}`,
    details: { reason: v.reason, sender: m.sender, recipients: m.recipients, subject: m.subject, limit: v.limit, windowMinutes: v.windowMinutes, digestDueAt: v.dueAt.toISOString(), firstHeldQueueId: m.id },
  };
}

function reasonText(v: Held): string {
  return v.reason === 'duplicate' ? `more than ${v.limit} identical messages within ${v.windowMinutes} min` : `more than ${v.limit} messages a minute from this sender`;
}

function clockAt(d: Date, tz: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d);
}

/** The queue's "last error" of a held message: why it waits, and until when. */
function holdReason(v: Held, tz: string): string {
  return `held back by alert-storm protection (${reasonText(v)}); summarised in a digest at ${clockAt(v.dueAt, tz)}`;
}
