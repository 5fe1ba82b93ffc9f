import { QueueRow } from './queue.repository.js';
import { MessageState } from './message.entity.js';

/** The JSON shape of a queue entry (README: JSON API). */
export interface QueueEntryView {
  id: string;
  state: MessageState;
  from: string;
  to: string[];
  size: number;
  subject: string;
  messageId: string;
  clientAddress: string | null;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

export function toQueueEntryView(r: QueueRow): QueueEntryView {
  return {
    id: r.id,
    state: r.state,
    from: r.sender,
    to: r.recipients,
    size: r.size,
    subject: r.subject,
    messageId: r.message_id,
    clientAddress: r.client_address,
    createdAt: new Date(r.created_at).toISOString(),
    attempts: r.attempts,
    nextAttemptAt: r.state === 'hold' || r.state === 'sending' ? null : new Date(r.next_attempt_at).toISOString(),
    lastError: r.last_error,
  };
}
