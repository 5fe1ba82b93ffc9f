import { z } from 'zod';
import { BlockList, isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { INSTALL_DIR, withConfigFile } from './config-file.js';
import { ConfigError } from './config-error.js';
import { ConfigName } from './config-names.js';
import { GOOGLE_AUTH_URL, GOOGLE_TOKEN_URL, MICROSOFT_LOGIN_BASE, OAuthUrls } from './oauth-urls.js';

/** An empty variable (`HTTP_PORT=`) means "not set": the default applies. */
const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const portNumber = z.coerce.number().int().min(1, 'must be a port number (1-65535)').max(65535, 'must be a port number (1-65535)');
/** A port with its default; the default goes inside the preprocess, where an empty value has become undefined. */
const port = (fallback: number) => z.preprocess(unsetIfEmpty, portNumber.default(fallback));
const optionalText = z.string().trim().min(1).optional().catch(undefined);

const cidrList = z
  .string()
  .transform((value, ctx) => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    for (const item of items) {
      const [address, prefix, extra] = item.split('/');
      const family = address ? isIP(address) : 0;
      // Digits only: Number('') is 0, so "10.0.0.0/" would otherwise allow every address.
      const bits = prefix === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      if (!family || extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not an address or a network in CIDR form` });
      }
    }
    return items;
  });

/** Names express's "trust proxy" knows for groups of addresses. */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const proxyList = z.string().transform((value, ctx) => {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const networks = cidrList.safeParse(items.filter((item) => !PROXY_NAMES.has(item)).join(','));
  for (const issue of networks.error?.issues ?? []) ctx.addIssue({ code: 'custom', message: `${issue.message}, nor loopback, linklocal or uniquelocal` });
  return items;
});

/** Every environment variable Postroom reads, with its default. */
export const configSchema = z.object({
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  HTTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  HTTP_PORT: port(8025),
  SMTP_LISTEN_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SMTP_LISTEN_PORT: port(2525),
  SMTP_ALLOWED_NETWORKS: cidrList.default(['127.0.0.0/8', '::1/128']),
  SMTP_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024, 'must be at least 1024').default(25 * 1024 * 1024),
  SMTP_MAX_RECIPIENTS: z.coerce.number().int().min(1, 'must be at least 1').max(10000).default(100),
  SMTP_MAX_SESSIONS: z.coerce.number().int().min(1, 'must be at least 1').default(200),
  SMTP_MAX_SESSIONS_PER_CLIENT: z.coerce.number().int().min(1, 'must be at least 1').default(100),
  // Slow clients (smtp-deadline.ts): a session ends after this long whatever it does; DATA must end
  // within its deadline plus one second per SMTP_MIN_DATA_RATE bytes received (Postfix 3.7's rule).
  SMTP_SESSION_DEADLINE_SECONDS: z.coerce.number().int('must be a whole number of seconds').min(1, 'must be at least 1').default(600),
  SMTP_DATA_DEADLINE_SECONDS: z.coerce.number().int('must be a whole number of seconds').min(1, 'must be at least 1').default(60),
  SMTP_MIN_DATA_RATE: z.coerce.number().int('must be a whole number of bytes a second').min(1, 'must be at least 1').default(500),
  ADMIN_PASSWORD: optionalText,
  API_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  SECRET_KEY: optionalText,
  EMBEDDED_PG_PORT: z.preprocess(unsetIfEmpty, portNumber.optional()),
  DIRECT_SMTP_PORT: port(25),
  INSTANCE_NAME: z.string().trim().min(1).default(`${os.hostname()}-${process.pid}`),
  DELIVERY_LEASE_SECONDS: z.coerce.number().int().min(10, 'must be at least 10').default(600),
  RELAY_RETRY_SECONDS: z.preprocess(unsetIfEmpty, z.coerce.number().min(0, 'must be 0 or more').max(3600, 'must be at most 3600').default(30)),
  SELF_CHECK_SECONDS: z.preprocess(unsetIfEmpty, z.coerce.number().int('must be a whole number of seconds').min(1, 'must be at least 1').max(600, 'must be at most 600').default(15)),
  // Dashboard sessions end this long after login, however busy; TRUST_PROXY names the reverse
  // proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (none by default).
  SESSION_LIFETIME_HOURS: z.coerce.number().int('must be a whole number of hours').min(1, 'must be at least 1').max(720, 'must be at most 720').default(12),
  TRUST_PROXY: proxyList.default([]),
  // Test-only: where "Authorize with Google" and the Google token requests go (a loopback stub in
  // the e2e tests). Leave unset in production: the defaults are Google's real endpoints.
  OAUTH_GOOGLE_AUTH_URL: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default(GOOGLE_AUTH_URL)),
  OAUTH_GOOGLE_TOKEN_URL: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default(GOOGLE_TOKEN_URL)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // As the C library and ICU read it: not checked here, only carried from the file to the process.
  TZ: z.preprocess(unsetIfEmpty, z.string().optional()),
} satisfies Record<ConfigName, z.ZodType>);

export type Env = z.infer<typeof configSchema>;

export interface AppConfig {
  databaseUrl: string | undefined;
  dataDir: string;
  http: { host: string; port: number };
  smtp: {
    host: string;
    port: number;
    allowedNetworks: string[];
    maxMessageBytes: number;
    maxRecipients: number;
    maxSessions: number;
    maxSessionsPerClient: number;
    sessionDeadlineSeconds: number;
    dataDeadlineSeconds: number;
    /** Bytes a second a client must keep up in DATA, past dataDeadlineSeconds. */
    minDataRate: number;
  };
  adminPassword: string | undefined;
  apiToken: string | undefined;
  secretKey: string | undefined;
  embeddedPgPort: number | undefined;
  /** Port of recipients' MX hosts in direct delivery (25; tests point it at a sink). */
  directPort: number;
  instanceName: string;
  leaseSeconds: number;
  /** How long a relay that just failed is tried after the others. */
  relayRetrySeconds: number;
  /** How often the queue-age alarm and the relay probe look whether they are due. */
  selfCheckSeconds: number;
  /** Hours a dashboard session lasts after login, used or not. */
  sessionLifetimeHours: number;
  /** express's "trust proxy": the proxies whose X-Forwarded-* headers are believed; empty = none. */
  trustProxy: string[];
  logLevel: Env['LOG_LEVEL'];
  /** TZ, from the environment or the configuration file: the time zone of report days. */
  timeZone: string | undefined;
  /** OAuth2 provider endpoints (Google's overridable for tests only). */
  oauth: OAuthUrls;
}

/** Never echoed in an error: they are secrets, or may hold one (a URL with a password). */
const SECRET_VARIABLES = new Set(['API_TOKEN', 'SECRET_KEY', 'ADMIN_PASSWORD', 'DATABASE_URL']);

export { ConfigError };

/**
 * Validates the configuration once: the environment over the configuration file (see
 * config-file.ts). The error names every bad variable.
 */
export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): AppConfig {
  const env = withConfigFile(processEnv);
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '');
        const raw = env[name];
        return `${name}: ${issue.message}${raw === undefined ? '' : ` (got "${SECRET_VARIABLES.has(name) ? '…' : raw}")`}`;
      }),
    );
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(INSTALL_DIR, e.DATA_DIR),
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    smtp: {
      host: e.SMTP_LISTEN_HOST,
      port: e.SMTP_LISTEN_PORT,
      allowedNetworks: e.SMTP_ALLOWED_NETWORKS,
      maxMessageBytes: e.SMTP_MAX_MESSAGE_BYTES,
      maxRecipients: e.SMTP_MAX_RECIPIENTS,
      maxSessions: e.SMTP_MAX_SESSIONS,
      maxSessionsPerClient: e.SMTP_MAX_SESSIONS_PER_CLIENT,
      sessionDeadlineSeconds: e.SMTP_SESSION_DEADLINE_SECONDS,
      dataDeadlineSeconds: e.SMTP_DATA_DEADLINE_SECONDS,
      minDataRate: e.SMTP_MIN_DATA_RATE,
    },
    adminPassword: e.ADMIN_PASSWORD,
    apiToken: e.API_TOKEN,
    secretKey: e.SECRET_KEY,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    directPort: e.DIRECT_SMTP_PORT,
    instanceName: e.INSTANCE_NAME,
    leaseSeconds: e.DELIVERY_LEASE_SECONDS,
    relayRetrySeconds: e.RELAY_RETRY_SECONDS,
    selfCheckSeconds: e.SELF_CHECK_SECONDS,
    sessionLifetimeHours: e.SESSION_LIFETIME_HOURS,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    timeZone: e.TZ,
    oauth: { microsoftLoginBase: MICROSOFT_LOGIN_BASE, googleAuthUrl: e.OAUTH_GOOGLE_AUTH_URL, googleTokenUrl: e.OAUTH_GOOGLE_TOKEN_URL },
  };
}

/** Builds a BlockList that answers whether a client address is allowed. */
export function allowedNetworkList(networks: string[]): BlockList {
  const list = new BlockList();
  for (const item of networks) {
    const [address = '', prefix] = item.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}
