import type { NewMailLogEntry } from '../mail-log/mail-log.service.js';
import type { NewMessage } from './queue.repository.js';

/** The mail-log line that records a message's reception. */
export function receivedEntry(m: NewMessage, at: Date): NewMailLogEntry {
  return {
    at,
    queueId: m.id,
    messageId: m.messageId,
    event: 'received',
    sender: m.sender,
    recipient: m.recipients.join(', '),
    size: m.data.length,
    clientAddress: m.clientAddress,
    subject: m.subject,
  };
}
