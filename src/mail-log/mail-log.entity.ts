import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * What happened to a message: received; per recipient sent, deferred or bounced; refused at
 * intake (rejected); put on hold, released, deleted by an operator, or carried by a storm
 * digest (digested); a test email (test), which is a diagnosis, not traffic.
 */
export type MailLogEvent = 'received' | 'sent' | 'deferred' | 'bounced' | 'rejected' | 'held' | 'released' | 'deleted' | 'digested' | 'test';

/** Postroom's own mail: a delivery status notice (bounce or delay warning), a storm digest, the daily report or heartbeat, an alarm to the channels. */
export const NOTICE_KINDS = ['dsn', 'digest', 'report', 'alarm'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** One line of the mail log: a reception, one recipient's outcome, or another fate of a message. */
@Entity({ name: 'mail_log' })
@Index('mail_log_event_id', ['event', 'id'])
@Index('mail_log_queue_id', ['queueId'])
@Index('mail_log_at', ['at'])
export class MailLogEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  @Column({ name: 'queue_id', type: 'text', nullable: true })
  queueId!: string | null;

  @Column({ name: 'message_id', type: 'text', nullable: true })
  messageId!: string | null;

  @Column({ type: 'text' })
  event!: MailLogEvent;

  @Column({ type: 'text', default: '' })
  sender!: string;

  /** The recipient of an outcome; for a reception, every recipient joined with ", ". */
  @Column({ type: 'text', default: '' })
  recipient!: string;

  /** The recipient(s) as given, when intake rewrote them (an alias, the admin address). */
  @Column({ name: 'original_recipient', type: 'text', nullable: true })
  originalRecipient!: string | null;

  @Column({ type: 'text', nullable: true })
  relay!: string | null;

  @Column({ type: 'integer', default: 0 })
  size!: number;

  @Column({ name: 'delay_ms', type: 'integer', nullable: true })
  delayMs!: number | null;

  @Column({ type: 'integer', nullable: true })
  attempt!: number | null;

  @Column({ type: 'text', nullable: true })
  reply!: string | null;

  @Column({ name: 'client_address', type: 'text', nullable: true })
  clientAddress!: string | null;

  @Column({ type: 'text', nullable: true })
  subject!: string | null;

  /** Why or who: a refusal's intake stage (connect, MAIL, RCPT, DATA), a hold's reason, the operator of a release or delete. */
  @Column({ type: 'text', nullable: true })
  detail!: string | null;

  /** On a 'received' line: Postroom's own mail, of this kind (reports count it apart from traffic). */
  @Column({ type: 'text', nullable: true })
  notice!: NoticeKind | null;
}
