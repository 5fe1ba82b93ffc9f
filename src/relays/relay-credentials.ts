import { SECRET_COLUMNS, SECRET_FIELDS, type SecretField } from './relay-secrets.js';
import type { RelayEntity } from './relay.entity.js';
import type { SecretBox } from './secret-box.js';
import { type Destination, rebind } from './secret-binding.js';

/** The secrets a change gives: text is sealed anew, null clears, '' or absent keeps the stored one. */
export type GivenSecrets = Partial<Record<SecretField, string | null>>;

/** What a change does to a relay's stored secrets, before anything is sealed or stored. */
export interface SecretsPlan {
  /** Given anew: the value to keep (the password as typed, the others trimmed). */
  set: Partial<Record<SecretField, string>>;
  /** Stored ones the change clears (null). */
  cleared: SecretField[];
  /** Stored ones neither given nor cleared that stay. */
  kept: SecretField[];
  /** Stored ones that would go elsewhere and that the relay no longer sends: they go with the change. */
  dropped: SecretField[];
  /** Stored ones the relay would send elsewhere: they have to be given again (400, nothing saved or sent). */
  reenter: Partial<Record<SecretField, string>>;
}

/**
 * The rule for a relay's secrets in a change from `current` to `next` (`current` with the
 * change's other fields applied): a given value replaces the stored one, null clears it, '' or
 * nothing keeps it; and a kept one stays with the host or token endpoint it was saved for
 * (rebind). Saves of the primary (settings API) and of backups (relays API) and the test email
 * of unsaved settings all follow it.
 */
export function planSecrets(current: RelayEntity, next: Destination, given: GivenSecrets): SecretsPlan {
  const plan: SecretsPlan = { set: {}, cleared: [], kept: [], dropped: [], reenter: {} };
  const stored: SecretField[] = [];
  for (const field of SECRET_FIELDS) {
    const value = given[field];
    const isStored = current[SECRET_COLUMNS[field]] !== null;
    if (value === null) {
      if (isStored) plan.cleared.push(field);
    } else if (typeof value === 'string' && value !== '') {
      plan.set[field] = field === 'password' ? value : value.trim();
    } else if (isStored) {
      stored.push(field);
    }
  }
  const { reenter, drop } = rebind(current, next, stored);
  plan.reenter = reenter;
  plan.dropped = drop;
  plan.kept = stored.filter((field) => !drop.includes(field));
  return plan;
}

/** The plan applied to `next`'s sealed columns: the secret fields the change sets, clears or drops, in that order. */
export function changeSecrets(box: SecretBox, current: RelayEntity, next: RelayEntity, given: GivenSecrets): SecretsPlan & { changed: SecretField[] } {
  const plan = planSecrets(current, next, given);
  for (const [field, value] of Object.entries(plan.set) as [SecretField, string][]) next[SECRET_COLUMNS[field]] = box.seal(value);
  for (const field of [...plan.cleared, ...plan.dropped]) next[SECRET_COLUMNS[field]] = null;
  const changed = SECRET_FIELDS.filter((field) => field in plan.set || plan.cleared.includes(field));
  return { ...plan, changed: [...changed, ...plan.dropped] };
}

/** What a relay's login is missing (one reason per field, named as both APIs name them), checked after a change is laid over it. */
export function loginProblems(r: RelayEntity): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!r.authEnabled || !r.host) return problems;
  if (r.authMethod === 'password') {
    if (!r.username) problems.username = 'is required when SASL authentication is on';
    if (!r.passwordSealed) problems.password = 'is required when SASL authentication is on';
    return problems;
  }
  const need = (field: string, present: boolean, why: string) => {
    if (!present) problems[field] = `is required ${why}`;
  };
  need('username', !!r.username, 'with OAuth2: the mailbox to send as');
  switch (r.oauthProvider) {
    case 'microsoft':
      need('oauthTenantId', !!r.oauthTenantId, 'for Microsoft 365 (the directory / tenant id)');
      need('oauthClientId', !!r.oauthClientId, 'for Microsoft 365 (the application / client id)');
      need('oauthClientSecret', r.oauthClientSecretSealed !== null, 'for Microsoft 365 (a client secret of the app registration)');
      break;
    case 'google':
      need('oauthClientId', !!r.oauthClientId, 'for Google (the OAuth client id)');
      need('oauthClientSecret', r.oauthClientSecretSealed !== null, 'for Google (the OAuth client secret)');
      break;
    case 'google-service-account':
      need('oauthServiceAccountKey', r.oauthServiceAccountKeySealed !== null, 'for a Google service account (its JSON key)');
      break;
    case 'generic':
      need('oauthTokenUrl', !!r.oauthTokenUrl, 'for a generic provider (the token endpoint)');
      need('oauthClientId', !!r.oauthClientId, 'for a generic provider');
      break;
  }
  return problems;
}
