/**
 * The name of every environment variable Postroom reads: the settings a configuration file may
 * hold. Apart from the schema (zod) so that light readers, such as the CLI's, check the file
 * against the same list; config.schema.ts makes the compiler hold the two together.
 */
export const CONFIG_NAMES = [
  'DATABASE_URL',
  'DATA_DIR',
  'HTTP_HOST',
  'HTTP_PORT',
  'SMTP_LISTEN_HOST',
  'SMTP_LISTEN_PORT',
  'SMTP_ALLOWED_NETWORKS',
  'SMTP_MAX_MESSAGE_BYTES',
  'SMTP_MAX_RECIPIENTS',
  'SMTP_MAX_SESSIONS',
  'SMTP_MAX_SESSIONS_PER_CLIENT',
  'SMTP_SESSION_DEADLINE_SECONDS',
  'SMTP_DATA_DEADLINE_SECONDS',
  'SMTP_MIN_DATA_RATE',
  'ADMIN_PASSWORD',
  'API_TOKEN',
  'SECRET_KEY',
  'EMBEDDED_PG_PORT',
  'DIRECT_SMTP_PORT',
  'INSTANCE_NAME',
  'DELIVERY_LEASE_SECONDS',
  'RELAY_RETRY_SECONDS',
  'SELF_CHECK_SECONDS',
  'SESSION_LIFETIME_HOURS',
  'TRUST_PROXY',
  'OAUTH_GOOGLE_AUTH_URL',
  'OAUTH_GOOGLE_TOKEN_URL',
  'LOG_LEVEL',
  'TZ',
] as const;

export type ConfigName = (typeof CONFIG_NAMES)[number];

export const KNOWN_CONFIG_NAMES: ReadonlySet<string> = new Set(CONFIG_NAMES);
