import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * The single row of settings (README: Settings): identity, delivery limits, notices, reports,
 * retention, storm protection, aliases. The primary relay's fields, which the settings API shows
 * beside these, live in its relay row (priority 0).
 */
@Entity({ name: 'settings' })
export class SettingsEntity {
  @PrimaryColumn({ type: 'smallint', default: 1 })
  id!: number;

  @Column({ type: 'text', default: '' })
  hostname!: string;

  @Column({ name: 'from_name', type: 'text', default: 'Postroom' })
  fromName!: string;

  @Column({ name: 'from_address', type: 'text', default: '' })
  fromAddress!: string;

  @Column({ name: 'admin_address', type: 'text', default: '' })
  adminAddress!: string;

  @Column({ name: 'rewrite_from', type: 'boolean', default: false })
  rewriteFrom!: boolean;

  @Column({ name: 'timeout_seconds', type: 'integer', default: 30 })
  timeoutSeconds!: number;

  @Column({ name: 'pool_size', type: 'integer', default: 10 })
  poolSize!: number;

  @Column({ name: 'lifetime_hours', type: 'integer', default: 120 })
  lifetimeHours!: number;

  /** Send the sender one "delayed" notice once a message has waited this long (0 = never). */
  @Column({ name: 'delay_warning_hours', type: 'integer', default: 0 })
  delayWarningHours!: number;

  /** Mail yesterday's report to the admin address every day at reportTime (the appliance's time zone). */
  @Column({ name: 'report_enabled', type: 'boolean', default: false })
  reportEnabled!: boolean;

  /** HH:MM, 24-hour clock. */
  @Column({ name: 'report_time', type: 'text', default: '07:00' })
  reportTime!: string;

  /** Every this many minutes each relay is connected to and logged in to, no message sent (0 = off). */
  @Column({ name: 'probe_minutes', type: 'integer', default: 0 })
  probeMinutes!: number;

  /** The oldest deferred message waiting longer than this raises the queue-age alarm (0 = off). */
  @Column({ name: 'queue_age_alarm_minutes', type: 'integer', default: 60 })
  queueAgeAlarmMinutes!: number;

  /** Mail a short heartbeat to the admin address every day at reportTime. */
  @Column({ name: 'heartbeat_enabled', type: 'boolean', default: false })
  heartbeatEnabled!: boolean;

  /** A dead man's switch: this URL gets a GET after a successful delivery or probe, at most once a minute ('' = off). */
  @Column({ name: 'heartbeat_url', type: 'text', default: '' })
  heartbeatUrl!: string;

  /** Mail-log entries and events older than this many days are purged once a day. */
  @Column({ name: 'retention_days', type: 'integer', default: 90 })
  retentionDays!: number;

  /** Alert storms: the window in which identical messages are counted. */
  @Column({ name: 'storm_window_minutes', type: 'integer', default: 10 })
  stormWindowMinutes!: number;

  /** Identical messages (sender + recipients + subject) delivered per window; the rest go into one digest (0 = off). */
  @Column({ name: 'storm_max_duplicates', type: 'integer', default: 3 })
  stormMaxDuplicates!: number;

  /** Messages per sender per minute before the rest are held for a digest (0 = no limit). */
  @Column({ name: 'sender_rate_limit_per_minute', type: 'integer', default: 0 })
  senderRateLimitPerMinute!: number;

  /** Local names (root, postmaster, a user) → the addresses their mail goes to; others go to adminAddress. */
  @Column({ type: 'jsonb', default: {} })
  aliases!: Record<string, string[]>;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
