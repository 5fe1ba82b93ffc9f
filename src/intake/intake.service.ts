import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RulesService } from '../channels/rules.service.js';
import { isLocalAddress } from '../common/local-domains.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { NoticeKind } from '../mail-log/mail-log.entity.js';
import { newQueueId } from '../queue/queue-id.js';
import { QueueService } from '../queue/queue.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { StormService } from '../storm/storm.service.js';
import { LOCAL_HOLD, localHoldText, qualifySender, resolveRecipients } from './local-mail.js';
import { LocalMailService } from './local-mail.service.js';
import { MessageRefused } from './message-hygiene.js';
import { normalizeMessage } from './message-normalizer.js';

export interface Submission {
  envelopeFrom: string;
  recipients: string[];
  /** The message: one buffer, or the DATA stream's chunks, which submit consumes (empties) once it holds its own copy. */
  raw: Buffer | Buffer[];
  client: { address: string | null; heloName?: string; reverseName?: string; protocol: string; uid?: number };
  /** When it arrived, if not now (a maildrop file written while Postroom was stopped). */
  receivedAt?: Date;
  /** sendmail -F: the display name of a From header added when the message has none. */
  fullName?: string;
  /** Postroom's own mail (a delivery status notice, the daily report): reports count it apart from traffic. */
  notice?: NoticeKind;
}

/** The one way into the queue, shared by the SMTP listener, the API and (through SMTP) sendmail. */
@Injectable()
export class IntakeService {
  constructor(
    private readonly queue: QueueService,
    private readonly settings: SettingsService,
    private readonly localMail: LocalMailService,
    private readonly storm: StormService,
    private readonly rules: RulesService,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  /**
   * Resolves with the queue id once the message is committed; rejects when it is not stored:
   * with MessageRefused when it never will be (no recipient, message-hygiene.ts), else the
   * client may try again. Local names are rewritten first (see local-mail.ts); a message for a
   * local name with nowhere to go is stored on hold until an admin address or an alias is set.
   */
  async submit(s: Submission): Promise<string> {
    if (s.recipients.length === 0) throw new MessageRefused({ code: 554, status: '5.5.1', text: 'no valid recipients' });
    const settings = await this.settings.get();
    const queueId = newQueueId();
    const hostname = await this.settings.heloName();
    const policy = this.localMail.policy(settings, hostname);
    const envelopeFrom = qualifySender(s.envelopeFrom, policy);
    const resolved = resolveRecipients(s.recipients, policy);
    const normalized = normalizeMessage({
      raw: s.raw,
      queueId,
      envelopeFrom,
      recipients: resolved.recipients,
      now: s.receivedAt ?? new Date(),
      hostname,
      fromName: settings.fromName,
      fromAddress: settings.fromAddress,
      rewriteFrom: settings.rewriteFrom,
      isLocal: (address) => isLocalAddress(address, policy.localDomains),
      fullName: s.fullName,
      client: s.client,
    });
    if (Array.isArray(s.raw)) s.raw.length = 0; // a big message is held once, not twice, from here on
    if (normalized.problem) throw new MessageRefused(normalized.problem);
    // Postroom's own mail (notices, reports) is not an alert: only the rest is routed. Rules and
    // the storm guard see who sent it, not the From address that rewriteFrom puts in its place.
    const routing = s.notice
      ? undefined
      : await this.rules.route({ sender: envelopeFrom, recipients: resolved.recipients, subject: normalized.subject, severity: normalized.severity, clientAddress: s.client.address });
    const message = {
      id: queueId,
      sender: normalized.sender,
      recipients: routing?.recipients.length ? [...resolved.recipients, ...routing.recipients] : resolved.recipients,
      escalation: routing?.escalation,
      subject: normalized.subject,
      messageId: normalized.messageId,
      clientAddress: s.client.address,
      data: normalized.data,
      receivedAt: s.receivedAt,
      originalRecipients: resolved.originals,
      notice: s.notice,
      held: resolved.unresolved.length ? { reason: LOCAL_HOLD, lastError: localHoldText(resolved.unresolved) } : undefined,
    };
    // Alert storms: a message past the limits is still stored (and acknowledged) but held for a digest.
    const seen = { sender: envelopeFrom, recipients: message.recipients, subject: message.subject };
    const verdict = message.held ? undefined : this.storm.check(seen, settings);
    let id: string;
    try {
      id = verdict?.hold ? await this.storm.hold(message, verdict) : await this.queue.enqueue(message);
    } catch (err) {
      // Not stored: the client retries, and that retry must not count as a repeat.
      if (verdict) this.storm.forget(seen, settings, verdict);
      throw err;
    }
    // The SMTP listener logs its own 'message queued'; other ways in (API, maildrop, notices) are logged here.
    if (s.client.address === null) this.log.info({ module: 'intake', queueId: id, from: message.sender, rcpt: message.recipients.length }, 'message queued');
    return id;
  }
}
