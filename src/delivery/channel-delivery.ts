import { Injectable } from '@nestjs/common';
import { postToChannel } from '../channels/channel-post.js';
import { type Alert, channelRequest } from '../channels/channel-request.js';
import { ChannelsService } from '../channels/channels.service.js';
import { channelIdOf, isChannelRecipient } from '../common/channel-recipient.js';
import { type MessageData, slices } from '../common/message-data.js';
import { PREVIEW_BYTES, previewMessage } from '../common/message-preview.js';
import { severityOf } from '../common/severity.js';
import type { ClaimedMessage } from '../queue/queue.repository.js';
import type { RecipientOutcome } from './outcome.js';

/**
 * Delivers a message's channel recipients (`channel:<id>`): each channel gets the alert as its
 * service documents it (channel-request.ts), posted at once and side by side. What each answered
 * becomes that recipient's outcome, with the channel's name as its relay, so the worker records
 * it like mail: sent, deferred (backoff, or the service's Retry-After) or bounced.
 */
@Injectable()
export class ChannelDelivery {
  constructor(private readonly channels: ChannelsService) {}

  async send(message: ClaimedMessage, data: MessageData, recipients: string[], host: string, timeoutMs: number): Promise<RecipientOutcome[]> {
    const found = await this.channels.forDelivery(recipients.map((r) => channelIdOf(r)!));
    const alert = await alertOf(message, data, host);
    return Promise.all(
      recipients.map(async (recipient): Promise<RecipientOutcome> => {
        const id = channelIdOf(recipient)!;
        const channel = found.get(id);
        // Its own name as relay, not the mail relay's (the report names a channel after its lines).
        if (!channel) return { recipient, status: 'bounced', code: null, reply: `channel ${id} no longer exists`, relay: `channel ${id} (deleted)` };
        if (!channel.enabled) return { recipient, status: 'bounced', code: null, reply: `channel ${channel.name} is disabled`, relay: channel.name };
        if (!channel.target) {
          return { recipient, status: 'deferred', code: null, reply: 'the channel’s URL and secrets cannot be decrypted with this SECRET_KEY: enter them again', relay: channel.name };
        }
        const reply = await postToChannel(channelRequest(channel.target, alert), timeoutMs);
        await this.channels.delivered(id, reply.status === 'sent', reply.reply).catch(() => undefined); // health only: the outcome is what counts
        return { recipient, status: reply.status, code: reply.code, reply: reply.reply, relay: channel.name, ...(reply.retryAfterMs !== undefined ? { retryAfterMs: reply.retryAfterMs } : {}) };
      }),
    );
  }
}

/** The alert's fields from the stored message: its headers and text (of the first PREVIEW_BYTES), and the queue's facts. */
export async function alertOf(message: ClaimedMessage, data: MessageData, host: string): Promise<Alert> {
  const preview = await previewMessage(headOf(data), data.length);
  const header = (name: string) => preview.headers.find((h) => h.name.toLowerCase() === name)?.value;
  return {
    queueId: message.id,
    subject: message.subject,
    from: message.sender,
    to: preview.to.length ? preview.to : message.recipients.filter((r) => !isChannelRecipient(r)),
    text: preview.text.trim(),
    severity: severityOf({ postroomSeverity: header('x-postroom-severity'), xPriority: header('x-priority'), importance: header('importance'), priority: header('priority') }),
    host,
    date: new Date(message.created_at).toISOString(),
  };
}

function headOf(data: MessageData): Buffer {
  const out: Buffer[] = [];
  let size = 0;
  for (const slice of slices(data, PREVIEW_BYTES)) {
    out.push(slice);
    size += slice.length;
    if (size >= PREVIEW_BYTES) break;
  }
  return Buffer.concat(out).subarray(0, PREVIEW_BYTES);
}
