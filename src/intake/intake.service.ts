import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { newQueueId } from '../queue/queue-id.js';
import { QueueService } from '../queue/queue.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { StormService } from '../storm/storm.service.js';
import { normalizeMessage } from './message-normalizer.js';

export interface Submission {
  envelopeFrom: string;
  recipients: string[];
  /** The message: one buffer, or the DATA stream's chunks, which submit consumes (empties) once it holds its own copy. */
  raw: Buffer | Buffer[];
  client: { address: string | null; heloName?: string; reverseName?: string; protocol: string };
}

/** The one way into the queue, shared by the SMTP listener, the API and (through SMTP) sendmail. */
@Injectable()
export class IntakeService {
  constructor(
    private readonly queue: QueueService,
    private readonly settings: SettingsService,
    @Optional() private readonly storm?: StormService,
    @Optional() @Inject(ROOT_LOGGER) private readonly log?: Logger,
  ) {}

  /** Resolves with the queue id once the message is committed; rejects when it is not stored. */
  async submit(s: Submission): Promise<string> {
    const settings = await this.settings.get();
    const queueId = newQueueId();
    const normalized = normalizeMessage({
      raw: s.raw,
      queueId,
      envelopeFrom: s.envelopeFrom,
      recipients: s.recipients,
      now: new Date(),
      hostname: await this.settings.heloName(),
      fromName: settings.fromName,
      fromAddress: settings.fromAddress,
      rewriteFrom: settings.rewriteFrom,
      client: s.client,
    });
    if (Array.isArray(s.raw)) s.raw.length = 0; // a big message is held once, not twice, from here on
    const message = {
      id: queueId,
      sender: normalized.sender,
      recipients: s.recipients,
      subject: normalized.subject,
      messageId: normalized.messageId,
      clientAddress: s.client.address,
      data: normalized.data,
    };
    // Alert storms: a message past the limits is still stored (and acknowledged) but held for a digest.
    const verdict = this.storm?.check(message, settings);
    let id: string;
    try {
      id = verdict?.hold ? await this.storm!.hold(message, verdict) : await this.queue.enqueue(message);
    } catch (err) {
      // Not stored: the client retries, and that retry must not count as a repeat.
      if (verdict) this.storm!.forget(message, settings, verdict);
      throw err;
    }
    // The SMTP listener logs its own 'message queued'; other ways in (API, CLI) are logged here.
    if (s.client.protocol === 'HTTP') this.log?.info({ module: 'intake', queueId: id, from: message.sender, rcpt: message.recipients.length }, 'message queued');
    return id;
  }
}
