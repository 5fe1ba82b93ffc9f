import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { RuleMatch } from './rule-match.js';

export const RULE_WHEN = ['always', 'undelivered'] as const;
export type RuleWhen = (typeof RULE_WHEN)[number];

/**
 * A routing rule: messages that `match` go to `channels` — always (a copy beside the mail), or
 * once mail has not delivered them `afterMinutes` after they arrived (0: at the first failed
 * attempt) or has bounced them. Evaluated at intake in `position` order.
 */
@Entity({ name: 'rule' })
export class RuleEntity {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'ALWAYS' })
  id!: number;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'integer' })
  position!: number;

  @Column({ type: 'jsonb', default: {} })
  match!: RuleMatch;

  @Column({ type: 'integer', array: true })
  channels!: number[];

  @Column({ type: 'text' })
  when!: RuleWhen;

  @Column({ name: 'after_minutes', type: 'integer', default: 0 })
  afterMinutes!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
