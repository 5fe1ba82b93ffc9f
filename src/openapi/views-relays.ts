import { z } from 'zod';
import { SECRET_FIELDS, type SecretField } from '../relays/relay-secrets.js';
import { dateTime, whole } from './views-common.js';

const FAILURE_KINDS = ['connection', 'timeout', 'tls', 'auth', 'dns', 'rejected', 'protocol'] as const;

/** The relays' answers (relays/relay.view.ts, relay-health.types.ts). */
export function relayViews() {
  const RelayHealth = z
    .strictObject({
      status: z.enum(['healthy', 'failing', 'unknown']).describe('healthy: the latest attempt worked; failing: it failed; unknown: never used'),
      lastSuccessAt: dateTime().nullable(),
      lastFailureAt: dateTime().nullable(),
      lastFailureReason: z.string().nullable(),
      lastFailureKind: z.enum(FAILURE_KINDS).nullable(),
      latencyMs: whole().nullable().describe('The median time of the last 20 sends'),
      lastLatencyMs: whole().nullable(),
      successes: whole(),
      failures: whole(),
      recipientRefusals: whole().describe('Recipients the relay refused (RCPT 4xx/5xx): about those recipients, not the relay'),
    })
    .describe("A relay's health");
  const Relay = z
    .strictObject({
      id: z.string().describe("'primary' for the relay of the settings, a backup's number otherwise (as text)"),
      primary: z.boolean(),
      host: z.string(),
      port: whole().nullable().describe('null: the default port of the security mode'),
      effectivePort: whole(),
      relay: z.string().describe('host:port, as the mail log names it'),
      security: z.enum(['none', 'starttls', 'tls']),
      tlsVerify: z.boolean(),
      authEnabled: z.boolean(),
      username: z.string(),
      passwordSet: z.boolean().describe('Whether a password is stored (it is never shown)'),
      secretsUnreadable: z.array(z.enum(SECRET_FIELDS as [SecretField, ...SecretField[]])),
      priority: whole().describe('Lower is tried first: 0 is the primary'),
      enabled: z.boolean(),
      updatedAt: dateTime(),
      health: RelayHealth,
    })
    .describe('A relay, never a secret: only whether one is set');
  return {
    RelayHealth,
    Relay,
    RelayList: z.strictObject({ items: z.array(Relay), nextCursor: z.null().describe('Always null: every relay is on one page') }).describe('Every relay in the order they are tried (the primary first)'),
    RelayDeleted: z.strictObject({ deleted: z.string().describe('The id of the relay removed') }),
  };
}
