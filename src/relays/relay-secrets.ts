import type { RelayEntity } from './relay.entity.js';
import type { SecretBox } from './secret-box.js';

/** Write-only fields and the sealed column each is kept in. */
export const SECRET_COLUMNS = {
  password: 'passwordSealed',
  oauthClientSecret: 'oauthClientSecretSealed',
  oauthRefreshToken: 'oauthRefreshTokenSealed',
  oauthServiceAccountKey: 'oauthServiceAccountKeySealed',
} as const satisfies Record<string, keyof RelayEntity>;

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

/** A relay's secrets in clear, for the transport and the token provider only. */
export type RelaySecrets = Partial<Record<SecretField, string>>;

/** The stored secrets that open, and the fields of those that do not (sealed under another SECRET_KEY). */
export interface OpenedSecrets {
  secrets: RelaySecrets;
  unreadable: SecretField[];
}

type Login = Pick<RelayEntity, 'host' | 'authEnabled' | 'authMethod' | 'oauthProvider'>;

/**
 * The secrets a relay sends somewhere: the password to the relay, OAuth2 secrets to the
 * provider's token endpoint. The others lie unused (no host, SASL off, another method or provider).
 */
export function secretsInUse(r: Login): SecretField[] {
  if (!r.host || !r.authEnabled) return [];
  if (r.authMethod === 'password') return ['password'];
  switch (r.oauthProvider) {
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

/** A relay's stored secrets in clear; one that does not open is left out and named in `unreadable`, so only what needs it fails. */
export function openSecrets(box: SecretBox, r: RelayEntity): OpenedSecrets {
  const out: OpenedSecrets = { secrets: {}, unreadable: [] };
  for (const field of SECRET_FIELDS) {
    const sealed = r[SECRET_COLUMNS[field]];
    if (sealed === null) continue;
    const clear = box.tryOpen(sealed);
    if (clear === undefined) out.unreadable.push(field);
    else out.secrets[field] = clear;
  }
  return out;
}

/** The write-only fields whose stored value this SECRET_KEY cannot open (without opening the others). */
export function unreadableSecrets(box: SecretBox, r: RelayEntity): SecretField[] {
  return SECRET_FIELDS.filter((field) => {
    const sealed = r[SECRET_COLUMNS[field]];
    return sealed !== null && box.check(sealed) === 'unreadable';
  });
}
