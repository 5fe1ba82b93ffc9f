import type { NewMailLogEntry } from '../mail-log/mail-log.service.js';
import type { NewMessage } from './queue.repository.js';

/** The mail-log line that records a message's reception. */
export function receivedEntry(m: NewMessage, now: Date): NewMailLogEntry {
  const originals = m.originalRecipients;
  return {
    at: m.receivedAt ?? now,
    queueId: m.id,
    messageId: m.messageId,
    event: 'received',
    sender: m.sender,
    recipient: m.recipients.join(', '),
    // The recipients as given, each once (an alias with two addresses came from one name).
    originalRecipient: originals ? [...new Set(m.recipients.flatMap((r) => originals[r]?.split(', ') ?? [r]))].join(', ') : null,
    size: m.data.length,
    clientAddress: m.clientAddress,
    subject: m.subject,
  };
}
