import type { SecretField } from '../settings/secret-fields.js';
import type { Security } from '../settings/settings.entity.js';
import { DEFAULT_PORTS } from '../settings/settings.view.js';
import type { RelayHealthView } from './relay-health.types.js';

/** A relay as the API shows it: never the password, only whether one is set. */
export interface RelayView {
  /** 'primary' for the relay of the settings, a backup's number otherwise (as text). */
  id: string;
  primary: boolean;
  host: string;
  port: number | null;
  effectivePort: number;
  /** "host:port", as the mail log's relay column names it. */
  relay: string;
  security: Security;
  tlsVerify: boolean;
  authEnabled: boolean;
  username: string;
  passwordSet: boolean;
  /** Write-only fields whose stored value this SECRET_KEY cannot decrypt (the primary's are the settings'): enter them again. */
  secretsUnreadable: SecretField[];
  /** Lower first: 0 is the primary. */
  priority: number;
  enabled: boolean;
  updatedAt: string;
  health: RelayHealthView;
}

export const PRIMARY_KEY = 'primary';

export function relayAddress(host: string, port: number | null, security: Security): string {
  return `${host}:${port ?? DEFAULT_PORTS[security]}`;
}
