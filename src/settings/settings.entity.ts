import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type Security = 'none' | 'starttls' | 'tls';

/** The single row of relay and identity settings (PRODUCT §1). */
@Entity({ name: 'settings' })
export class SettingsEntity {
  @PrimaryColumn({ type: 'smallint', default: 1 })
  id!: number;

  @Column({ name: 'relay_host', type: 'text', default: '' })
  relayHost!: string;

  @Column({ name: 'relay_port', type: 'integer', nullable: true })
  relayPort!: number | null;

  @Column({ type: 'text', default: 'starttls' })
  security!: Security;

  @Column({ name: 'tls_verify', type: 'boolean', default: true })
  tlsVerify!: boolean;

  @Column({ name: 'auth_enabled', type: 'boolean', default: false })
  authEnabled!: boolean;

  @Column({ type: 'text', default: '' })
  username!: string;

  /** AES-256-GCM sealed password, or null when none is set. */
  @Column({ name: 'password_sealed', type: 'text', nullable: true })
  passwordSealed!: string | null;

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

  /** Mail yesterday's report to the admin address every day at reportTime (the appliance's time zone). */
  @Column({ name: 'report_enabled', type: 'boolean', default: false })
  reportEnabled!: boolean;

  /** HH:MM, 24-hour clock. */
  @Column({ name: 'report_time', type: 'text', default: '07:00' })
  reportTime!: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
