import type { RelayHealthView } from './relay-health.types.js';
import type { SecretField } from './relay-secrets.js';
import type { Security } from './relay.entity.js';

/** A relay as the API shows it: never a secret, only whether one is set. */
export interface RelayView {
  /** 'primary' for the relay of priority 0 (the settings' relay), a backup's number otherwise (as text). */
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
  /** Write-only fields whose stored value this SECRET_KEY cannot decrypt: enter them again. */
  secretsUnreadable: SecretField[];
  /** Lower first: 0 is the primary. */
  priority: number;
  enabled: boolean;
  updatedAt: string;
  health: RelayHealthView;
}
