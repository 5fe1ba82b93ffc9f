import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { EscalationStep } from '../common/escalation.js';

/** Stored states; "sending" is a claimed message under a lease. */
export const MESSAGE_STATES = ['queued', 'deferred', 'hold', 'sending'] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

/** A message in the queue with the recipients still pending. */
@Entity({ name: 'message' })
@Index('message_due', ['nextAttemptAt'], { where: `state IN ('queued', 'deferred')` })
@Index('message_lease', ['leaseUntil'], { where: `state = 'sending'` })
@Index('message_state_id', ['state', 'id'])
export class MessageEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  state!: MessageState;

  @Column({ type: 'text', default: '' })
  sender!: string;

  @Column({ type: 'text', array: true })
  recipients!: string[];

  @Column({ type: 'text', default: '' })
  subject!: string;

  @Column({ name: 'message_id', type: 'text', default: '' })
  messageId!: string;

  @Column({ type: 'integer' })
  size!: number;

  @Column({ name: 'client_address', type: 'text', nullable: true })
  clientAddress!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'lease_owner', type: 'text', nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;

  /** Recipients rewritten at intake (aliases, the admin address): rewritten address → the original(s). */
  @Column({ name: 'original_recipients', type: 'jsonb', nullable: true })
  originalRecipients!: Record<string, string> | null;

  /** Why a held message waits: 'local' = mail for a local name with no admin address to go to. */
  @Column({ name: 'hold_reason', type: 'text', nullable: true })
  holdReason!: string | null;

  /** What `undelivered` routing rules add to its recipients once mail cannot deliver it (EscalationStep[]). */
  @Column({ type: 'jsonb', nullable: true })
  escalation!: EscalationStep[] | null;

  /** A flush came while it was being sent: if that attempt ends deferred, it is due at once. */
  @Column({ name: 'flushed_in_flight', type: 'boolean', default: false })
  flushedInFlight!: boolean;
}

/** The raw RFC 5322 bytes of a queued message, kept apart so listings never read them. */
@Entity({ name: 'message_body' })
export class MessageBodyEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'bytea' })
  data!: Buffer;
}
