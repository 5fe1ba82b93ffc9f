import { effectivePort, relayKey } from './relay-address.js';
import { type OpenedSecrets, type SecretField, secretsInUse } from './relay-secrets.js';
import type { RelayEntity, Security } from './relay.entity.js';

/** A relay as a transport uses it: where, how protected, and the login with the password in clear. */
export interface DeliveryRelay {
  /** 'primary' or a backup's id: the health key. */
  key: string;
  host: string;
  /** The effective port. */
  port: number;
  security: Security;
  tlsVerify: boolean;
  auth?: { user: string; pass: string };
  /** OAuth2 (XOAUTH2) as this mailbox; only the primary can have it. */
  oauth?: { user: string };
  priority: number;
  /** A stored secret its login needs that this SECRET_KEY cannot open: delivery skips the relay, the test email names the secret. */
  unusable?: SecretField;
}

/** The one mapping from a relay row (and its secrets, opened or typed for a test) to what a transport needs. */
export function deliveryRelay(r: RelayEntity, opened: OpenedSecrets): DeliveryRelay {
  const oauth = r.authEnabled && r.authMethod === 'oauth2';
  const pass = r.authEnabled && !oauth ? opened.secrets.password : undefined;
  const lost = secretsInUse(r).find((field) => opened.unreadable.includes(field));
  return {
    key: relayKey(r),
    host: r.host,
    port: effectivePort(r.port, r.security),
    security: r.security,
    tlsVerify: r.tlsVerify,
    ...(pass !== undefined ? { auth: { user: r.username, pass } } : {}),
    ...(oauth ? { oauth: { user: r.username } } : {}),
    priority: r.priority,
    ...(lost ? { unusable: lost } : {}),
  };
}
