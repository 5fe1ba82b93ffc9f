import { effectivePort } from './relay-address.js';
import { type SecretField, SECRET_NAMES, secretsInUse } from './relay-secrets.js';
import type { RelayEntity, Security } from './relay.entity.js';

/**
 * A stored secret goes only where it was saved for: a relay password to the same host,
 * effective port and security mode; OAuth2 secrets to the same token endpoint, and the access
 * token they mint to the same relay (host, port, security) as the password would. Otherwise
 * anyone allowed to change a relay (an API token, a dashboard session) could point it at a
 * listener of their own and read a write-only secret back, or a bearer token good for the
 * mailbox itself.
 */
export type Destination = Pick<RelayEntity, 'host' | 'port' | 'security' | 'authEnabled' | 'authMethod' | 'oauthProvider' | 'oauthTenantId' | 'oauthTokenUrl'>;

/** Where a relay's password goes. The effective port counts (null is the mode's default); certificate checking does not. */
export function relayDestination(host: string, port: number | null, security: Security): string {
  return `${security}://${host.trim().toLowerCase()}:${effectivePort(port, security)}`;
}

/** Where OAuth2 secrets go: Google's endpoint (both Google providers), the tenant's at Microsoft, or the generic provider's URL. */
function tokenDestination(r: Destination): string {
  switch (r.oauthProvider) {
    case 'microsoft':
      return `microsoft/${r.oauthTenantId.trim().toLowerCase()}`;
    case 'google':
    case 'google-service-account':
      return 'google';
    case 'generic':
      return `url ${r.oauthTokenUrl.trim()}`;
  }
}

function destinationOf(field: SecretField, r: Destination): string {
  const relay = relayDestination(r.host, r.port, r.security);
  return field === 'password' ? relay : `${tokenDestination(r)} for ${relay}`;
}

/** The reason on a secret's field when it has to be typed again. */
const REENTER: Record<SecretField, string> = {
  password: 'was saved for another host: enter the password again for the new host',
  oauthClientSecret: `was saved for another token endpoint or relay: enter the ${SECRET_NAMES.oauthClientSecret} again for the new one`,
  oauthRefreshToken: `was saved for another token endpoint or relay: enter the ${SECRET_NAMES.oauthRefreshToken} again for the new one`,
  oauthServiceAccountKey: `was saved for another token endpoint or relay: enter the ${SECRET_NAMES.oauthServiceAccountKey} again for the new one`,
};

/** How a dropped secret is shown in the event of the change. */
export const DROPPED = (field: SecretField): string => `(cleared: saved for another ${field === 'password' ? 'host' : 'token endpoint or relay'})`;

export interface Rebinding {
  /** Kept secrets the change would send to another destination: 400, one reason per field. */
  reenter: Partial<Record<SecretField, string>>;
  /** Kept secrets of another destination that the relay no longer sends: they go with the change. */
  drop: SecretField[];
}

/**
 * What becomes of the stored secrets that a change keeps (neither given again nor cleared)
 * when a relay moves from `before` to `after`. A change of method or provider keeps the
 * secrets of the same destination.
 */
export function rebind(before: Destination, after: Destination, kept: SecretField[]): Rebinding {
  const used = secretsInUse(after);
  const out: Rebinding = { reenter: {}, drop: [] };
  for (const field of kept) {
    if (destinationOf(field, before) === destinationOf(field, after)) continue;
    if (used.includes(field)) out.reenter[field] = REENTER[field];
    else out.drop.push(field);
  }
  return out;
}
