import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type EventLevel = 'info' | 'warning' | 'error';
export type EventSource = 'listener' | 'maildrop' | 'delivery' | 'settings' | 'queue' | 'system' | 'api';

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
