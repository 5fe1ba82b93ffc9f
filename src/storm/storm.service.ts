import { Inject, Injectable, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { formatMailbox } from '../common/address.js';
import { Batcher } from '../common/batcher.js';
import { appTimeZone } from '../common/timezone.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { queryRows } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { dependentsDeletedSql } from '../queue/message-dependents.js';
import { newQueueId } from '../queue/queue-id.js';
import { NewMessage, QueueRepository } from '../queue/queue.repository.js';
import { receivedEntry } from '../queue/received-entry.js';
import { SettingsService } from '../settings/settings.service.js';
import { digestText } from './storm-digest.js';
import { StormGuard, StormReason, StormVerdict } from './storm-guard.js';

type Held = Extract<StormVerdict, { hold: true }>;

/** Any constant shared by every instance: the first key of the digest's advisory locks. */
const DIGEST_LOCK = 0x73746f72; // "stor"

/**
 * Alert-storm protection around the queue. A held message is stored exactly like any other
 * (group-committed; the 250 comes after COMMIT) but with state 'hold', a storm_hold row and the
 * reason as its last error: it is listed in the queue, can be released or deleted by the
 * operator, and is never lost. At the end of its window one digest message replaces every
 * message of the same group still held, in one transaction (held rows out, digest in, event
 * with their queue ids), so each accepted message is delivered, summarised or deleted by
 * someone — and the event log says which.
 */
@Injectable()
export class StormService {
  readonly guard = new StormGuard();
  private readonly log: Logger;
  private readonly holds: Batcher<{ message: NewMessage; verdict: Held }, string>;
  private sweeping = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly repo: QueueRepository,
    private readonly mailLog: MailLogService,
    private readonly events: EventLogService,
    private readonly settings: SettingsService,
    private readonly notifier: PgNotifier,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.log = root.child({ module: 'storm' });
    this.holds = new Batcher((batch) => this.commitHolds(batch), { maxBatch: 200, maxConcurrent: 2 });
  }

  /** Whether this message goes through or is held (in memory, no I/O). */
  check(message: { sender: string; recipients: string[]; subject: string }, settings: { stormWindowMinutes: number; stormMaxDuplicates: number; senderRateLimitPerMinute: number }): StormVerdict {
    return this.guard.check(message, settings);
  }

  /** Takes back a check() whose message was not stored after all. */
  forget(message: { sender: string; recipients: string[]; subject: string }, settings: { stormWindowMinutes: number; stormMaxDuplicates: number; senderRateLimitPerMinute: number }, verdict: StormVerdict): void {
    this.guard.forget(message, settings, verdict);
  }

  /** Stores a held message; resolves with its queue id after COMMIT, like QueueService.enqueue. */
  hold(message: NewMessage, verdict: Held): Promise<string> {
    return this.holds.add({ message, verdict });
  }

  private async commitHolds(batch: { message: NewMessage; verdict: Held }[]): Promise<string[]> {
    const now = new Date();
    const tz = appTimeZone();
    await this.db.transaction(async (tx) => {
      await this.repo.insert(
        tx,
        batch.map((b) => b.message),
        now,
      );
      // Held in the same transaction as the insert: no worker ever sees these messages due.
      const params: unknown[] = [];
      const rows = batch.map(({ message, verdict }) => {
        params.push(message.id, verdict.reason, verdict.digestKey, verdict.dueAt, holdReason(verdict, tz));
        const b = params.length - 5;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::timestamptz, $${b + 5})`;
      });
      await tx.query(
        `WITH h(id, reason, digest_key, due, why) AS (VALUES ${rows.join(', ')}),
              ins AS (INSERT INTO storm_hold (id, reason, digest_key, digest_due_at) SELECT id, reason, digest_key, due FROM h)
         UPDATE message m SET state = 'hold', next_attempt_at = h.due, last_error = h.why FROM h WHERE m.id = h.id`,
        params,
      );
      await this.mailLog.append(batch.map(({ message: m }) => receivedEntry(m, now)), tx);
      for (const { message: m, verdict: v } of batch.filter((b) => b.verdict.first)) {
        await this.events.record(
          {
            level: 'warning',
            source: 'listener',
            message: `Alert storm: messages from ${m.sender || '<>'} to ${m.recipients.join(', ')}${v.reason === 'duplicate' ? ` with subject '${m.subject}'` : ''} held back (${reasonText(v)}); one digest at ${clockAt(v.dueAt, tz)}`,
            details: { reason: v.reason, sender: m.sender, recipients: m.recipients, subject: m.subject, limit: v.limit, windowMinutes: v.windowMinutes, digestDueAt: v.dueAt.toISOString(), firstHeldQueueId: m.id },
          },
          tx,
        );
      }
    });
    for (const { message: m, verdict: v } of batch) {
      this.metrics?.heldBackMessage(v.reason);
      this.log.info({ queueId: m.id, reason: v.reason, digestDueAt: v.dueAt.toISOString() }, 'message held back (alert storm)');
    }
    return batch.map((b) => b.message.id);
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
    const keys = await queryRows<{ digest_key: string }>(
      this.db,
      `SELECT DISTINCT h.digest_key FROM storm_hold h JOIN message m ON m.id = h.id AND m.state = 'hold' WHERE h.digest_due_at <= $1 LIMIT 500`,
      [now],
    );
    const sent: string[] = [];
    for (const { digest_key } of keys) {
      const done = await this.db.transaction((tx) => this.digest(tx, digest_key, now));
      if (!done) continue;
      sent.push(done.id);
      this.metrics?.digestQueued();
      this.log.info({ queueId: done.id, count: done.count }, 'alert storm digest queued');
    }
    if (sent.length) this.notifier.notifyLocal('postroom_wakeup', 'storm-digest');
    return sent;
  }

  private async digest(tx: EntityManager, key: string, now: Date): Promise<{ id: string; count: number } | null> {
    const [lock] = await queryRows<{ ok: boolean }>(tx, `SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok`, [DIGEST_LOCK, key]);
    if (!lock?.ok) return null; // another instance is on it
    const held = await queryRows<{ id: string; sender: string; recipients: string[]; subject: string; created_at: Date; reason: StormReason }>(
      tx,
      `WITH held AS (
         DELETE FROM message m USING storm_hold h
          WHERE h.id = m.id AND h.digest_key = $1 AND h.digest_due_at <= $2 AND m.state = 'hold'
          RETURNING m.id, m.sender, m.recipients, m.subject, m.created_at, h.reason
       ), ${dependentsDeletedSql('held')}
       SELECT * FROM held`,
      [key, now],
    );
    if (held.length === 0) return null;
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
    await this.repo.insert(tx, [digest], now);
    await this.mailLog.append([{ at: now, queueId: digest.id, messageId, event: 'received', sender: digest.sender, recipient: recipients.join(', '), size: data.length, clientAddress: null, subject: d.subject }], tx);
    await this.events.record(
      {
        level: 'info',
        source: 'queue',
        message: `Alert storm digest ${digest.id} to ${recipients.join(', ')}: ${d.lines.join('; ')}`,
        details: { queueId: digest.id, reason, sender: first.sender, recipients, count: held.length, summary: d.lines, heldQueueIds: held.map((h) => h.id).join(' ') },
      },
      tx,
    );
    await tx.query(`SELECT pg_notify('postroom_wakeup', '')`);
    return { id: digest.id, count: held.length };
  }
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
