import type { SettingsEntity } from './settings.entity.js';

/** Write-only fields and the sealed column each is kept in. */
export const SECRET_COLUMNS = {
  password: 'passwordSealed',
  oauthClientSecret: 'oauthClientSecretSealed',
  oauthRefreshToken: 'oauthRefreshTokenSealed',
  oauthServiceAccountKey: 'oauthServiceAccountKeySealed',
} as const satisfies Record<string, keyof SettingsEntity>;

export type SecretField = keyof typeof SECRET_COLUMNS;

/** In the order of the form and the API. */
export const SECRET_FIELDS = Object.keys(SECRET_COLUMNS) as SecretField[];

export const isSecretField = (name: string): name is SecretField => name in SECRET_COLUMNS;

/** What people call each secret (reasons, events). */
export const SECRET_NAMES: Record<SecretField, string> = {
  password: 'password',
  oauthClientSecret: 'client secret',
  oauthRefreshToken: 'refresh token',
  oauthServiceAccountKey: 'service account key',
};

type Login = Pick<SettingsEntity, 'relayHost' | 'authEnabled' | 'authMethod' | 'oauthProvider'>;

/**
 * The secrets these settings send somewhere: the password to the relay, OAuth2 secrets to the
 * provider's token endpoint. The others lie unused (SASL off, another method or provider).
 */
export function secretsInUse(s: Login): SecretField[] {
  if (!s.relayHost || !s.authEnabled) return [];
  if (s.authMethod === 'password') return ['password'];
  switch (s.oauthProvider) {
    case 'microsoft':
      return ['oauthClientSecret'];
    case 'google':
    case 'generic':
      return ['oauthClientSecret', 'oauthRefreshToken'];
    case 'google-service-account':
      return ['oauthServiceAccountKey'];
  }
}

/** Why a stored secret cannot be used: it was sealed under another SECRET_KEY (or altered). */
export function unreadableReason(field: SecretField): string {
  return `the stored ${SECRET_NAMES[field]} cannot be decrypted with this SECRET_KEY: enter it again`;
}
