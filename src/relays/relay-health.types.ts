/** What kind of failure a relay had (delivery classifies a transport error into one). */
export type FailureKind = 'connection' | 'timeout' | 'tls' | 'auth' | 'dns' | 'rejected' | 'protocol';

/**
 * What the failover transport tells about each relay it tries, and asks back. `key` names the
 * relay ('primary' or a backup's id), `relay` its address ("host:port"): a key whose address
 * changed starts over.
 */
export interface RelayHealthObserver {
  /** The relay answered: it took the message, or refused the message itself (5xx on RCPT/DATA). */
  succeeded(key: string, relay: string, latencyMs: number): void;
  /**
   * The whole attempt on this relay failed (connection, TLS, timeout, 4xx, authentication).
   * `announce` false: the failure is already in the event log (an OAuth2 token request).
   */
  failed(key: string, relay: string, kind: FailureKind, reason: string, announce?: boolean): void;
  /** When the relay last failed (ms since the epoch), if it has not worked since; else undefined. */
  failingSince(key: string, relay: string): number | undefined;
}

/** How long a relay that just failed is tried after the others, by default. */
export const DEFAULT_RELAY_RETRY_MS = 30_000;

export type RelayStatus = 'healthy' | 'failing' | 'unknown';

/** A relay's health as the API and the dashboard show it. */
export interface RelayHealthView {
  /** healthy: the latest attempt worked; failing: the latest attempt failed; unknown: never used. */
  status: RelayStatus;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastFailureReason: string | null;
  lastFailureKind: FailureKind | null;
  /** The median time of the last 20 sends (ms), as the instance that wrote last measured it. */
  latencyMs: number | null;
  lastLatencyMs: number | null;
  successes: number;
  failures: number;
}

export const UNKNOWN_HEALTH: RelayHealthView = {
  status: 'unknown',
  lastSuccessAt: null,
  lastFailureAt: null,
  lastFailureReason: null,
  lastFailureKind: null,
  latencyMs: null,
  lastLatencyMs: null,
  successes: 0,
  failures: 0,
};
