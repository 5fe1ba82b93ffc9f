/** What kind of failure a relay had (delivery classifies a transport error into one). */
export type FailureKind = 'connection' | 'timeout' | 'tls' | 'auth' | 'dns' | 'rejected' | 'protocol';

/**
 * What the failover transport tells about each relay it tries, and asks back. `key` names the
 * relay ('primary' or a backup's id), `relay` its address ("host:port"): a key whose address
 * changed starts over.
 */
export interface RelayHealthObserver {
  /**
   * The relay answered: it took the message, or refused the message itself (5xx on DATA) or
   * some or all of its recipients (RCPT 4xx/5xx). `recipientRefusals`: how many recipients it
   * refused; a refusal is about that recipient, never a failure of the relay.
   */
  succeeded(key: string, relay: string, latencyMs: number, recipientRefusals?: number): void;
  /**
   * The whole attempt on this relay failed (connection, TLS, timeout, greeting, AUTH, MAIL or
   * DATA).
   * `announce` false: the failure is already in the event log (an OAuth2 token request).
   */
  failed(key: string, relay: string, kind: FailureKind, reason: string, announce?: boolean): void;
  /** When the relay last failed (ms since the epoch), if it has not worked since; else undefined. */
  failingSince(key: string, relay: string): number | undefined;
}

/**
 * How many recipients an error of a whole attempt refused at RCPT (0: the error is not about
 * recipients). Every recipient refused is still the relay answering: the mailbox is busy or
 * unknown, the relay works. A 421 is not a refusal: the relay closes the connection, whatever
 * the command; nor is a connection lost during RCPT (no reply code).
 */
export function refusedRecipients(err: { command?: string; responseCode?: number; rejectedErrors?: { responseCode?: number }[] }): number {
  const refusal = (code: number | undefined) => typeof code === 'number' && code >= 400 && code < 600 && code !== 421;
  if (err.rejectedErrors?.length) return err.rejectedErrors.every((e) => refusal(e.responseCode)) ? err.rejectedErrors.length : 0;
  return (err.command ?? '').toUpperCase().startsWith('RCPT') && refusal(err.responseCode) ? 1 : 0;
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
  /** Recipients the relay refused (RCPT 4xx/5xx): about those recipients, not the relay's health. */
  recipientRefusals: number;
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
  recipientRefusals: 0,
};
