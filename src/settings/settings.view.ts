import type { SecretField } from './secret-fields.js';
import { AuthMethod, OAuthClientAuth, OAuthProvider, Security, SettingsEntity } from './settings.entity.js';

/** The settings as the API shows them: the password never, only whether one is set. */
export interface SettingsView {
  relayHost: string;
  relayPort: number | null;
  effectivePort: number;
  security: Security;
  tlsVerify: boolean;
  authEnabled: boolean;
  username: string;
  passwordSet: boolean;
  authMethod: AuthMethod;
  oauthProvider: OAuthProvider;
  oauthTenantId: string;
  oauthClientId: string;
  oauthClientSecretSet: boolean;
  oauthRefreshTokenSet: boolean;
  oauthServiceAccountKeySet: boolean;
  oauthTokenUrl: string;
  oauthScope: string;
  oauthClientAuth: OAuthClientAuth;
  hostname: string;
  fromName: string;
  fromAddress: string;
  adminAddress: string;
  rewriteFrom: boolean;
  timeoutSeconds: number;
  poolSize: number;
  lifetimeHours: number;
  delayWarningHours: number;
  reportEnabled: boolean;
  reportTime: string;
  retentionDays: number;
  stormWindowMinutes: number;
  stormMaxDuplicates: number;
  senderRateLimitPerMinute: number;
  aliases: Record<string, string[]>;
  /** Write-only fields whose stored value this SECRET_KEY cannot decrypt: they have to be entered again. */
  secretsUnreadable: SecretField[];
  updatedAt: string;
}

export const DEFAULT_PORTS: Record<Security, number> = { none: 25, starttls: 587, tls: 465 };

export function effectivePort(s: Pick<SettingsEntity, 'relayPort' | 'security'>): number {
  return s.relayPort ?? DEFAULT_PORTS[s.security];
}

export function toSettingsView(s: SettingsEntity, secretsUnreadable: SecretField[]): SettingsView {
  return {
    relayHost: s.relayHost,
    relayPort: s.relayPort,
    effectivePort: effectivePort(s),
    security: s.security,
    tlsVerify: s.tlsVerify,
    authEnabled: s.authEnabled,
    username: s.username,
    passwordSet: s.passwordSealed !== null,
    authMethod: s.authMethod,
    oauthProvider: s.oauthProvider,
    oauthTenantId: s.oauthTenantId,
    oauthClientId: s.oauthClientId,
    oauthClientSecretSet: s.oauthClientSecretSealed !== null,
    oauthRefreshTokenSet: s.oauthRefreshTokenSealed !== null,
    oauthServiceAccountKeySet: s.oauthServiceAccountKeySealed !== null,
    oauthTokenUrl: s.oauthTokenUrl,
    oauthScope: s.oauthScope,
    oauthClientAuth: s.oauthClientAuth,
    hostname: s.hostname,
    fromName: s.fromName,
    fromAddress: s.fromAddress,
    adminAddress: s.adminAddress,
    rewriteFrom: s.rewriteFrom,
    timeoutSeconds: s.timeoutSeconds,
    poolSize: s.poolSize,
    lifetimeHours: s.lifetimeHours,
    delayWarningHours: s.delayWarningHours,
    reportEnabled: s.reportEnabled,
    reportTime: s.reportTime,
    retentionDays: s.retentionDays,
    stormWindowMinutes: s.stormWindowMinutes,
    stormMaxDuplicates: s.stormMaxDuplicates,
    senderRateLimitPerMinute: s.senderRateLimitPerMinute,
    aliases: s.aliases,
    secretsUnreadable,
    updatedAt: new Date(s.updatedAt).toISOString(),
  };
}
