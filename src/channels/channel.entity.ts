import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ChannelType } from './channel-request.js';

/** What a channel keeps in clear outside its sealed secrets. */
export interface ChannelOptions {
  /** webhook: the Handlebars body template (absent: the default). */
  template?: string;
}

/**
 * A notification channel: an HTTP target that routing rules send alerts to, delivered from the
 * queue like mail. Everything that could let someone post as the appliance (the URL, which for
 * Slack, Discord, Teams or Mattermost is the key itself; tokens; ntfy's topic; a webhook's header
 * values) is in `secretsSealed` (SecretBox); `urlHint` is the URL's origin, for display.
 */
@Entity({ name: 'channel' })
export class ChannelEntity {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'ALWAYS' })
  id!: number;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  type!: ChannelType;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'url_hint', type: 'text' })
  urlHint!: string;

  /** SecretBox-sealed JSON of ChannelSecrets. */
  @Column({ name: 'secrets_sealed', type: 'text' })
  secretsSealed!: string;

  @Column({ type: 'jsonb', default: {} })
  options!: ChannelOptions;

  /** Its latest delivery that the service took, and the latest it refused or did not answer (the dashboard's health). */
  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt!: Date | null;

  @Column({ name: 'last_failure_at', type: 'timestamptz', nullable: true })
  lastFailureAt!: Date | null;

  @Column({ name: 'last_failure_reason', type: 'text', nullable: true })
  lastFailureReason!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
