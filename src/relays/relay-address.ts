import type { RelayEntity, Security } from './relay.entity.js';

export const DEFAULT_PORTS: Record<Security, number> = { none: 25, starttls: 587, tls: 465 };

/** The port a relay is reached on: its own, or the default of its security mode. */
export function effectivePort(port: number | null, security: Security): number {
  return port ?? DEFAULT_PORTS[security];
}

/** "host:port", as the mail log's relay column and the events name a relay. */
export function relayAddress(host: string, port: number | null, security: Security): string {
  return `${host}:${effectivePort(port, security)}`;
}

/** The primary relay's id in the API and its key in relay_health. */
export const PRIMARY_KEY = 'primary';

/** A relay's id in the API and its key in relay_health: 'primary' for priority 0, else its number. */
export function relayKey(r: Pick<RelayEntity, 'id' | 'priority'>): string {
  return r.priority === 0 ? PRIMARY_KEY : String(r.id);
}
