import type { Security } from '../../relays/relay.entity.js';

/** A relay's security mode in words, as every page says it. */
export const SECURITY_LABELS: Record<Security, string> = { none: 'no TLS', starttls: 'STARTTLS', tls: 'implicit TLS' };

/** The badge class of a relay's health status. */
export const HEALTH_BADGES = { healthy: 'info', failing: 'error', unknown: 'unknown' } as const;
