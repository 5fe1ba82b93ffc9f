import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type Security = 'none' | 'starttls' | 'tls';
export type AuthMethod = 'password' | 'oauth2';
export type OAuthProvider = 'microsoft' | 'google' | 'google-service-account' | 'generic';
/** How the client authenticates at the token endpoint (RFC 6749 §2.3.1): in the form body, HTTP Basic, or whichever the provider takes. */
export type OAuthClientAuth = 'auto' | 'post' | 'basic';

/**
 * A relay mail goes through. The primary is the row of priority 0 (there is always one: the
 * settings API shows it as relayHost, relayPort…; a blank host means direct delivery to MX);
 * backups are 1 and up. Only the primary may log in with OAuth2 (a table constraint).
 */
@Entity({ name: 'relay' })
export class RelayEntity {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'ALWAYS' })
  id!: number;

  @Column({ type: 'text' })
  host!: string;

  /** null: the default port of the security mode (25 / 587 / 465). */
  @Column({ type: 'integer', nullable: true })
  port!: number | null;

  @Column({ type: 'text', default: 'starttls' })
  security!: Security;

  @Column({ name: 'tls_verify', type: 'boolean', default: true })
  tlsVerify!: boolean;

  @Column({ name: 'auth_enabled', type: 'boolean', default: false })
  authEnabled!: boolean;

  /** With OAuth2: the mailbox to send as. */
  @Column({ type: 'text', default: '' })
  username!: string;

  /** AES-256-GCM sealed password (SecretBox), or null when none is set. */
  @Column({ name: 'password_sealed', type: 'text', nullable: true })
  passwordSealed!: string | null;

  /** How SASL logs in: a password (PLAIN/LOGIN) or an OAuth2 access token (XOAUTH2, the primary only). */
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

  /** Lower first; the primary relay is 0, backups 1 and up. */
  @Column({ type: 'integer' })
  priority!: number;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
