import { Inject, Injectable, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { formatMailbox } from '../common/address.js';
import { isChannelRecipient } from '../common/channel-recipient.js';
import type { EscalationStep } from '../common/escalation.js';
import { composeMail } from '../common/compose-mail.js';
import { appTimeZone } from '../common/timezone.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { Conn, Sql } from '../database/sql.js';
import type { NewEvent } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { newQueueId } from '../queue/queue-id.js';
import { fateEntries } from '../queue/received-entry.js';
import { QueueWriter } from '../queue/queue-writer.js';
import { DigestedMessage, NewMessage, QueueRepository, ReleaseChange } from '../queue/queue.repository.js';
import { SettingsService } from '../settings/settings.service.js';
import { composeDigest, digestRoom, fixedBytes, planDigests } from './digest-mime.js';
import { digestPartText, digestText } from './storm-digest.js';
import { StormGuard, StormSettings, StormVerdict } from './storm-guard.js';

type Held = Extract<StormVerdict, { hold: true }>;

/** SMTP_MAX_MESSAGE_BYTES's default, when no configuration is given (tests). */
const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;
/** Room for what one digest of a series says besides the group's summary: "(2 of 3)", which messages. */
const PART_TEXT_BYTES = 2048;

/**
 * Alert-storm protection around the queue. A held message is stored exactly like any other
 * (QueueWriter, group-committed; the 250 comes after COMMIT) but on hold, with the reason as
 * its last error and a storm_hold row naming its digest: it is listed in the queue, can be
 * released or deleted by the operator, and is never lost. At the end of its window a digest
 * (multipart/digest: a summary, then every message of the group still held, each as it was
 * received) replaces them, in one transaction (held rows out, digests in, an event per digest
 * with their queue ids), so each accepted message reaches a person, on its own or inside a
 * digest, unless the operator deletes it — and the event log says which. Past the size limit
 * the group goes in several digests of whole messages; a message too large to fit in any is
 * queued on its own instead. This module decides and writes the digests; the queue module stores.
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
    @Optional() @Inject(APP_CONFIG) private readonly config?: Pick<AppConfig, 'smtp'>,
  ) {
    this.log = root.child({ module: 'storm' });
  }

  /** Whether this message goes through or is held (in memory, no I/O). */
  check(message: { sender: string; recipients: string[]; subject: string }, settings: StormSettings): StormVerdict {
    return this.guard.check(message, settings);
  }

  /** Takes back a check() whose message was not stored after all. */
  forget(message: { sender: string; recipients: string[]; subject: string }, settings: StormSettings, verdict: StormVerdict): void {
    this.guard.forget(message, settings, verdict);
  }

  /**
   * The guard for a message leaving another hold (local mail released once an admin address is
   * set), in arrival order: past the limits it stays held for a digest (`storm`), as it would
   * have at intake. The storm's first event comes with the first one held. The verdict is
   * counted: forget() takes it back if the message does not leave its hold after all.
   */
  holdOnRelease(m: StartedBy, settings: StormSettings): { verdict: StormVerdict; storm?: NonNullable<ReleaseChange['storm']>; event?: NewEvent } {
    const verdict = this.guard.check(m, settings);
    if (!verdict.hold) return { verdict };
    const tz = appTimeZone();
    this.metrics?.heldBackMessage(verdict.reason);
    return {
      verdict,
      storm: { reason: verdict.reason, group: verdict.digestKey, dueAt: verdict.dueAt, lastError: holdReason(verdict, tz) },
      ...(verdict.first ? { event: stormStarted(m, verdict, tz) } : {}),
    };
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

  /** Replaces every group of held messages whose window has ended with its digests; resolves with their queue ids. */
  async sendDueDigests(now = new Date()): Promise<string[]> {
    const sent: string[] = [];
    for (const group of await this.repo.dueStormGroups(now)) {
      const done = await this.sql.transaction((tx) => this.digest(tx, group, now));
      for (const d of done) {
        sent.push(d.id);
        this.metrics?.digestQueued();
        this.log.info({ queueId: d.id, count: d.count, released: d.released }, 'alert storm digest queued');
      }
    }
    return sent;
  }

  /**
   * The digests of one group, in the caller's transaction: the held messages are locked, read
   * and packed, oldest first, into digests under the size limit; each digest is queued with the
   * deletion of the messages it carries, so a message leaves only with the digest that holds it.
   */
  private async digest(tx: Conn, group: string, now: Date): Promise<{ id: string; count: number; released: number }[]> {
    const held = await this.repo.lockStormGroup(tx, group, now);
    if (held.length === 0) return []; // gone, or another instance is on it
    const s = await this.settings.get();
    const first = held[0]!;
    const reason = first.reason;
    const recipients = first.recipients;
    // The digest goes where they went, routing rules' channels included; its header and text name the mail recipients.
    const mailRecipients = recipients.filter((r) => !isChannelRecipient(r));
    const d = digestText({
      reason,
      sender: first.sender,
      recipients: mailRecipients,
      held: held.map((h) => ({ id: h.id, subject: h.subject, createdAt: new Date(h.created_at) })),
      limit: reason === 'duplicate' ? s.stormMaxDuplicates : s.senderRateLimitPerMinute,
      windowMinutes: reason === 'duplicate' ? s.stormWindowMinutes : 1,
      timeZone: appTimeZone(),
    });
    const hostname = await this.settings.heloName();
    const from = s.fromAddress ? formatMailbox(s.fromName, s.fromAddress) : first.sender || undefined;
    const summary = (subject: string, text: string, count: number, messageId = '<digest@localhost>') =>
      composeMail({
        from,
        to: mailRecipients,
        subject,
        text: text.replace(/\r?\n/g, '\r\n'),
        messageId,
        date: now,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Postroom-Digest': String(count) },
      });

    const maxBytes = this.config?.smtp.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    // A message too large to ride in a digest goes out alone, as it was accepted (it is within
    // the limit by itself), rather than in a digest over the limit that a relay would refuse.
    const fixed = fixedBytes(await summary(`${d.subject} (9999 of 9999)`, d.text + 'x'.repeat(PART_TEXT_BYTES), held.length));
    const plan = planDigests(held, digestRoom(maxBytes), fixed);
    const releasedRows = plan.tooLarge.length ? await this.repo.releaseFromStorm(tx, plan.tooLarge.map((m) => m.id)) : [];
    await this.writer.logIn(tx, fateEntries(releasedRows, 'released', 'the storm guard', 'too large for a digest: delivered on its own'));
    const released = releasedRows.map((m) => m.id);
    const runs: DigestedMessage[][] = plan.runs.length ? plan.runs : [[]];
    const out: { id: string; count: number; released: number }[] = [];
    let from1 = 1;
    for (const [i, run] of runs.entries()) {
      const bodies = await this.repo.heldBodies(tx, run);
      const part = digestPartText(d, { index: i + 1, of: runs.length, from: from1, to: from1 + run.length - 1, total: held.length - released.length, released, maxBytes });
      from1 += run.length;
      const messageId = `<${randomUUID()}@${hostname}>`;
      const data = composeDigest(
        await summary(part.subject, part.text, run.length, messageId),
        run.map((m) => {
          const body = bodies.get(m.id);
          if (!body || body.length !== m.size) throw new Error(`held message ${m.id}: body missing or not ${m.size} bytes`);
          return body;
        }),
      );
      const escalation = escalationOf(run);
      const digest: NewMessage = { id: newQueueId(), sender: s.fromAddress || first.sender, recipients, subject: part.subject, messageId, clientAddress: null, data, notice: 'digest', ...(escalation ? { escalation } : {}) };
      const ids = run.map((m) => m.id);
      await this.writer.enqueueIn(tx, digest, {
        level: 'info',
        source: 'queue',
        message: `Alert storm digest ${digest.id}${runs.length > 1 ? ` (${i + 1} of ${runs.length})` : ''} to ${recipients.join(', ')}: ${d.lines.join('; ')}`,
        details: {
          queueId: digest.id,
          reason,
          sender: first.sender,
          recipients,
          count: run.length,
          summary: d.lines,
          heldQueueIds: ids.join(' '),
          ...(runs.length > 1 ? { part: i + 1, parts: runs.length } : {}),
          ...(i === 0 && released.length ? { releasedQueueIds: released.join(' ') } : {}),
        },
      });
      const gone = run.length ? await this.repo.deleteDigested(tx, ids) : [];
      if (gone.length !== run.length) throw new Error(`digest ${digest.id}: ${run.length - gone.length} held message(s) changed meanwhile`);
      // Each carried message's story ends in the digest that absorbed it: its queue id in the reply.
      await this.writer.logIn(tx, fateEntries(gone, 'digested', reason === 'duplicate' ? 'storm duplicate' : 'storm rate', digest.id));
      out.push({ id: digest.id, count: run.length, released: i === 0 ? released.length : 0 });
    }
    return out;
  }
}

/**
 * The `undelivered` steps of the messages a digest carries, each once: if mail cannot deliver
 * the digest, the channels their rules named still hear of them.
 */
function escalationOf(run: DigestedMessage[]): EscalationStep[] | undefined {
  const steps = new Map<string, EscalationStep>();
  for (const step of run.flatMap((m) => m.escalation ?? [])) steps.set(JSON.stringify([step.rule, step.afterMinutes, [...step.channels].sort()]), step);
  return steps.size ? [...steps.values()] : undefined;
}

/** What a storm's first event names of the message that started it. */
type StartedBy = Pick<NewMessage, 'id' | 'sender' | 'recipients' | 'subject'>;

/** The event of a storm's first held message: what is held back, why, and when the digest comes. */
function stormStarted(m: StartedBy, v: Held, tz: string): NewEvent {
  return {
    level: 'warning',
    source: 'listener',
    message: `Alert storm: messages from ${m.sender || '<>'} to ${m.recipients.join(', ')}${v.reason === 'duplicate' ? ` with subject '${m.subject}'` : ''} held back (${reasonText(v)}); sent in a digest at ${clockAt(v.dueAt, tz)}`,
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
