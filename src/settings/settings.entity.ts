import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type Security = 'none' | 'starttls' | 'tls';
export type AuthMethod = 'password' | 'oauth2';
export type OAuthProvider = 'microsoft' | 'google' | 'google-service-account' | 'generic';
/** How the client authenticates at the token endpoint (RFC 6749 §2.3.1): in the form body, HTTP Basic, or whichever the provider takes. */
export type OAuthClientAuth = 'auto' | 'post' | 'basic';

/** The single row of relay and identity settings (README: Settings). */
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

  /** How SASL logs in: a password (PLAIN/LOGIN) or an OAuth2 access token (XOAUTH2). */
  @Column({ name: 'auth_method', type: 'text', default: 'password' })
  authMethod!: AuthMethod;

  @Column({ name: 'oauth_provider', type: 'text', default: 'microsoft' })
  oauthProvider!: OAuthProvider;

  @Column({ name: 'oauth_tenant_id', type: 'text', default: '' })
  oauthTenantId!: string;

  @Column({ name: 'oauth_client_id', type: 'text', default: '' })
  oauthClientId!: string;

  /** Sealed like the password; null when none is set. */
  @Column({ name: 'oauth_client_secret_sealed', type: 'text', nullable: true })
  oauthClientSecretSealed!: string | null;

  @Column({ name: 'oauth_refresh_token_sealed', type: 'text', nullable: true })
  oauthRefreshTokenSealed!: string | null;

  /** A Google service account's JSON key, sealed. */
  @Column({ name: 'oauth_service_account_key_sealed', type: 'text', nullable: true })
  oauthServiceAccountKeySealed!: string | null;

  /** The generic provider's token endpoint. */
  @Column({ name: 'oauth_token_url', type: 'text', default: '' })
  oauthTokenUrl!: string;

  /** The generic provider's scope (others have a fixed one). */
  @Column({ name: 'oauth_scope', type: 'text', default: '' })
  oauthScope!: string;

  /** Client secret in the body (post), as HTTP Basic (basic), or post then basic once (auto). */
  @Column({ name: 'oauth_client_auth', type: 'text', default: 'auto' })
  oauthClientAuth!: OAuthClientAuth;

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
