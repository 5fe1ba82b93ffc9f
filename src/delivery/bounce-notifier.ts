import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { domainOf, formatMailbox } from '../common/address.js';
import type { MessageData } from '../common/message-data.js';
import { Conn, Sql } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { IntakeService } from '../intake/intake.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { ClaimedMessage, QueueRepository } from '../queue/queue.repository.js';
import type { SettingsEntity } from '../settings/settings.entity.js';
import { SettingsService } from '../settings/settings.service.js';
import { DsnRecipient, buildDsn, dsnStatus, remoteMtaOf } from './dsn.js';
import type { AttemptOutcome } from './outcome.js';

/** What OutcomeRecorder committed for one attempt: enough to tell the sender. */
export interface CommittedAttempt {
  message: Pick<ClaimedMessage, 'id' | 'sender' | 'created_at' | 'subject' | 'message_id'> & { data: MessageData };
  outcome: AttemptOutcome;
  /** The recipients whose final state this attempt recorded as bounced. */
  bounced: string[];
  /** The recipients still pending after this attempt. */
  deferred: string[];
  /** True when the bounces are the end of the message's lifetime. */
  expired: boolean;
  lifetimeHours: number;
  now: Date;
}

/**
 * Delivery status notifications (RFC 3464): a "failed" notice to the envelope sender when
 * recipients bounce (a 5xx or the end of the lifetime), and optionally one "delayed" notice per
 * message after `delayWarningHours`. The appliance's own mail (from the From address, this host or
 * localhost) is reported to the admin address instead. A notice goes through IntakeService with an
 * empty envelope sender, and a message with an empty envelope sender never gets one: no notice
 * about a notice. Called after the attempt is committed; it never throws.
 */
@Injectable()
export class BounceNotifier {
  private readonly log: Logger;

  constructor(
    private readonly sql: Sql,
    private readonly queue: QueueRepository,
    private readonly settings: SettingsService,
    private readonly intake: IntakeService,
    private readonly events: EventLogService,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'notices' });
  }

  async afterAttempt(a: CommittedAttempt): Promise<void> {
    try {
      if (a.bounced.length) await this.failed(a);
      if (a.deferred.length && !a.expired) await this.maybeDelayed(a);
    } catch (err) {
      this.log.error({ err, queueId: a.message.id }, 'could not send a delivery status notification');
      await this.events.recordSafely({
        level: 'error',
        source: 'delivery',
        message: `Could not send a delivery notice for message ${a.message.id}: ${(err as Error).message}`,
        details: { queueId: a.message.id },
      });
    }
  }

  /** Where a notice about this message goes, or why none is sent. */
  async noticeRecipient(sender: string, s?: SettingsEntity): Promise<{ to: string; reason: 'sender' | 'admin' } | { skip: string; level: 'info' | 'warning' }> {
    if (sender === '') return { skip: 'its envelope sender is empty (no notice about a notice)', level: 'info' };
    const settings = s ?? (await this.settings.get());
    const helo = (await this.settings.heloName()).toLowerCase();
    const domain = domainOf(sender);
    const own =
      (settings.fromAddress !== '' && sender.toLowerCase() === settings.fromAddress.toLowerCase()) || domain === 'localhost' || domain === helo || domain === `${helo}.`;
    if (!own) return { to: sender, reason: 'sender' };
    if (!settings.adminAddress) return { skip: 'it is the appliance\'s own mail and no admin address is set', level: 'warning' };
    return { to: settings.adminAddress, reason: 'admin' };
  }

  private async failed(a: CommittedAttempt): Promise<void> {
    const byRecipient = new Map(a.outcome.recipients.map((r) => [r.recipient, r]));
    const remoteMta = remoteMtaOf(a.outcome.relay);
    let anyExpired = false;
    const recipients: DsnRecipient[] = a.bounced.map((recipient) => {
      const r = byRecipient.get(recipient);
      const reply = r?.reply ?? 'undeliverable';
      // Deferred in this attempt but bounced: the lifetime ran out (a 5xx bounces on its own).
      const expired = a.expired && r?.status !== 'bounced';
      anyExpired ||= expired;
      return {
        recipient,
        status: dsnStatus(reply, 'failed', expired),
        reply: expired ? `message expired after ${a.lifetimeHours} h in the queue; last error: ${reply}` : reply,
        remoteMta: expired ? undefined : remoteMta,
      };
    });
    await this.send({ ...a, expired: anyExpired }, 'failed', recipients);
  }

  /** Once per message: claims delay_warned_at, then submits; a failed submission rolls the claim back. */
  private async maybeDelayed(a: CommittedAttempt): Promise<void> {
    const s = await this.settings.get();
    const hours = s.delayWarningHours;
    if (!hours || a.message.sender === '') return;
    const created = new Date(a.message.created_at);
    if (a.now.getTime() - created.getTime() < hours * 3_600_000) return;
    const byRecipient = new Map(a.outcome.recipients.map((r) => [r.recipient, r]));
    const remoteMta = remoteMtaOf(a.outcome.relay);
    const recipients: DsnRecipient[] = a.deferred.map((recipient) => {
      const reply = byRecipient.get(recipient)?.reply ?? 'not yet delivered';
      return { recipient, status: dsnStatus(reply, 'delayed'), reply, remoteMta };
    });
    await this.sql.transaction(async (tx) => {
      if (await this.queue.claimDelayWarning(tx, a.message.id)) await this.send(a, 'delayed', recipients, tx, hours);
    });
  }

  private async send(a: CommittedAttempt, action: 'failed' | 'delayed', recipients: DsnRecipient[], tx?: Conn, delayHours?: number): Promise<void> {
    const m = a.message;
    const what = action === 'failed' ? 'Non-delivery notice' : 'Delay notice';
    const s = await this.settings.get();
    const target = await this.noticeRecipient(m.sender, s);
    if ('skip' in target) {
      await this.events.record(
        { level: target.level, source: 'delivery', message: `${what} for message ${m.id} not sent: ${target.skip}`, details: { queueId: m.id, action, recipients: recipients.map((r) => r.recipient) } },
        tx,
      );
      return;
    }
    const helo = await this.settings.heloName();
    const created = new Date(m.created_at);
    const raw = await buildDsn({
      action,
      reportingMta: helo,
      from: formatMailbox('Mail Delivery System', s.fromAddress || `MAILER-DAEMON@${helo.includes('.') ? helo : 'localhost'}`),
      to: target.to,
      queueId: m.id,
      sender: m.sender,
      arrivalDate: created,
      now: a.now,
      recipients,
      original: m.data,
      originalSubject: m.subject ?? '',
      originalMessageId: m.message_id,
      expiredAfterHours: action === 'failed' && a.expired ? a.lifetimeHours : undefined,
      delayedForHours: delayHours,
      willRetryUntil: new Date(created.getTime() + a.lifetimeHours * 3_600_000),
    });
    const noticeId = await this.intake.submit({ envelopeFrom: '', recipients: [target.to], raw, client: { address: null, protocol: 'local' }, notice: 'dsn' });
    await this.events.record(
      {
        level: 'info',
        source: 'delivery',
        message: `${what} for message ${m.id} sent to ${target.to}${target.reason === 'admin' ? ' (admin address: the sender is the appliance)' : ''} as ${noticeId}`,
        details: { queueId: m.id, noticeQueueId: noticeId, action, to: target.to, recipients: recipients.map((r) => ({ recipient: r.recipient, status: r.status })) },
      },
      tx,
    );
  }
}
