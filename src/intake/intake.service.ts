import { Injectable } from '@nestjs/common';
import { newQueueId } from '../queue/queue-id.js';
import { QueueService } from '../queue/queue.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { normalizeMessage } from './message-normalizer.js';

export interface Submission {
  envelopeFrom: string;
  recipients: string[];
  raw: Buffer;
  client: { address: string | null; heloName?: string; reverseName?: string; protocol: string };
}

/** The one way into the queue, shared by the SMTP listener, the API and (through SMTP) sendmail. */
@Injectable()
export class IntakeService {
  constructor(
    private readonly queue: QueueService,
    private readonly settings: SettingsService,
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
    return this.queue.enqueue({
      id: queueId,
      sender: normalized.sender,
      recipients: s.recipients,
      subject: normalized.subject,
      messageId: normalized.messageId,
      clientAddress: s.client.address,
      data: normalized.data,
    });
  }
}
