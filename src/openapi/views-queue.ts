import { z } from 'zod';
import { MESSAGE_STATES } from '../queue/message.entity.js';
import { countSchema, dateTime, page, whole } from './views-common.js';


/** The queue's answers (queue/queue.view.ts, queue.service.ts). */
export function queueViews() {
  const state = z.enum(MESSAGE_STATES).describe('queued: due; deferred: waits for its next attempt; hold: held until released; sending: being delivered');
  const QueueEntry = z
    .strictObject({
      id: z.string().describe('The queue id'),
      state,
      from: z.string().describe('The envelope sender'),
      to: z.array(z.string()).describe('The recipients still pending'),
      size: whole().describe('Bytes'),
      subject: z.string(),
      messageId: z.string().describe('The Message-ID header'),
      clientAddress: z.string().nullable().describe('The SMTP client that submitted it; null for the API and maildrop'),
      createdAt: dateTime(),
      attempts: whole(),
      nextAttemptAt: dateTime().nullable().describe('null while held or being sent'),
      lastError: z.string().nullable(),
    })
    .describe('A message in the queue');
  const QueueCounts = z.strictObject({ queued: whole(), deferred: whole(), hold: whole(), sending: whole() }).describe('Messages per state');
  return { QueueEntry, QueuePage: page(QueueEntry).describe('A page of the queue, newest first'), QueueCounts, Count: countSchema(), MessageAccepted: z.strictObject({ id: z.string().describe('The queue id of the message') }) };
}
