import type { NewMailLogEntry } from '../mail-log/mail-log.service.js';
import type { MessageFacts, NewMessage } from './queue.repository.js';

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
    notice: m.notice ?? null,
  };
}

/** Why a message stored on hold waits, as the mail log's `detail` says it. */
export type HoldDetail = 'storm duplicate' | 'storm rate' | 'operator' | 'local mail waiting for an admin address';

/** The 'held' line of a message stored on hold (a storm's, or local mail with nowhere to go), right after its reception. */
export function heldEntry(m: NewMessage, now: Date): NewMailLogEntry | undefined {
  if (!m.held) return undefined;
  const detail: HoldDetail = m.held.storm ? (m.held.storm.reason === 'duplicate' ? 'storm duplicate' : 'storm rate') : 'local mail waiting for an admin address';
  return { ...fateBase(m), at: m.receivedAt ?? now, event: 'held', detail, reply: m.held.lastError };
}

function fateBase(m: NewMessage): Omit<NewMailLogEntry, 'event'> {
  return { queueId: m.id, messageId: m.messageId, sender: m.sender, recipient: m.recipients.join(', '), size: m.data.length, subject: m.subject, clientAddress: m.clientAddress };
}

/** One line per message for an operator's action (held, released, deleted) or a digest that carried it. */
export function fateEntries(rows: MessageFacts[], event: 'held' | 'released' | 'deleted' | 'digested', detail: string | null, reply?: string | null): NewMailLogEntry[] {
  return rows.map((r) => ({
    queueId: r.id,
    messageId: r.messageId,
    event,
    sender: r.sender,
    recipient: r.recipients.join(', '),
    size: r.size,
    subject: r.subject,
    clientAddress: r.clientAddress,
    detail,
    reply: reply ?? null,
  }));
}
