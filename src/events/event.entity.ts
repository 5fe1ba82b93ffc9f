import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const EVENT_LEVELS = ['info', 'warning', 'error'] as const;
export type EventLevel = (typeof EVENT_LEVELS)[number];
export const EVENT_SOURCES = ['listener', 'maildrop', 'delivery', 'queue', 'settings', 'system', 'api'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/** One line of the system event log. */
@Entity({ name: 'event' })
@Index('event_level_id', ['level', 'id'])
@Index('event_at', ['at'])
export class EventEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  @Column({ type: 'text' })
  level!: EventLevel;

  @Column({ type: 'text' })
  source!: EventSource;

  @Column({ type: 'text' })
  message!: string;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  details!: Record<string, unknown>;
}
