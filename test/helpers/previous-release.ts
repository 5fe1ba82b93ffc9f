import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, MIGRATIONS } from '../../src/database/data-source.js';
import { runMigrations } from '../../src/database/migrate.js';
import { newQueueId } from '../../src/queue/queue-id.js';
import { SecretBox } from '../../src/relays/secret-box.js';

/**
 * A database as the release before "relays modelled once" left it, for the upgrade test. Nothing
 * is checked out: it runs the migrations of that release (every migration up to
 * OAuthClientAuth1763880000000; migrations never change once landed) and fills the tables with
 * SQL shaped like that schema: the primary relay in the settings row with a password and OAuth2
 * secrets, two backup relays, relay health, messages in every state with their bodies, storm
 * holds, the mail log and the event log. Later migrations are the new build's to run: keep this
 * fixture as it is.
 */
export const PREVIOUS_RELEASE_LAST_MIGRATION = 'OAuthClientAuth1763880000000';

/** A SECRET_KEY as 64 hex characters: the key itself, as the appliance keeps it. */
export const PREVIOUS_SECRET_KEY = randomBytes(32).toString('hex');

export const PREVIOUS_SECRETS = {
  password: 'Primary-Pw-' + randomBytes(6).toString('hex'),
  oauthClientSecret: 'Client-Secret-' + randomBytes(6).toString('hex'),
  oauthRefreshToken: 'Refresh-Token-' + randomBytes(6).toString('hex'),
  oauthServiceAccountKey: JSON.stringify({ client_email: 'sa@example.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nMII…\n-----END PRIVATE KEY-----\n' }),
  backupPassword: 'Backup-Pw-' + randomBytes(6).toString('hex'),
};

export interface PreviousRelease {
  /** The sealed values as stored in the settings row (column → sealed text). */
  sealed: Record<'password_sealed' | 'oauth_client_secret_sealed' | 'oauth_refresh_token_sealed' | 'oauth_service_account_key_sealed', string>;
  backupIds: [number, number];
  /** Queue ids by the state the message was left in. */
  messages: { queued: string; deferred: string; held: string; stormDuplicate: string; stormRate: string; sending: string };
  mailLogIds: string[];
  eventIds: string[];
}

/** Migrates a fresh database to the previous release's schema and fills it; the primary relay is 127.0.0.1:relayPort (no TLS), logging in as relayuser. */
export async function fillPreviousRelease(url: string, relayPort: number): Promise<PreviousRelease> {
  const last = MIGRATIONS.findIndex((m) => m.name === PREVIOUS_RELEASE_LAST_MIGRATION);
  if (last < 0) throw new Error(`${PREVIOUS_RELEASE_LAST_MIGRATION} is not among the migrations`);
  const ds = new DataSource({ ...dataSourceOptions(url, 2), migrations: MIGRATIONS.slice(0, last + 1) });
  await ds.initialize();
  try {
    await runMigrations(ds);
  } finally {
    await ds.destroy();
  }

  const box = new SecretBox(Buffer.from(PREVIOUS_SECRET_KEY, 'hex'));
  const sealed = {
    password_sealed: box.seal(PREVIOUS_SECRETS.password),
    oauth_client_secret_sealed: box.seal(PREVIOUS_SECRETS.oauthClientSecret),
    oauth_refresh_token_sealed: box.seal(PREVIOUS_SECRETS.oauthRefreshToken),
    oauth_service_account_key_sealed: box.seal(PREVIOUS_SECRETS.oauthServiceAccountKey),
  };
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(
      `UPDATE settings SET relay_host = '127.0.0.1', relay_port = $1, security = 'none', tls_verify = false, auth_enabled = true, username = 'relayuser',
         password_sealed = $2, auth_method = 'password', oauth_provider = 'generic', oauth_tenant_id = 'contoso.onmicrosoft.com', oauth_client_id = 'postroom-client',
         oauth_client_secret_sealed = $3, oauth_refresh_token_sealed = $4, oauth_service_account_key_sealed = $5, oauth_token_url = 'https://login.example.com/token',
         oauth_scope = 'smtp.send', oauth_client_auth = 'basic', hostname = 'nas.example.com', from_name = 'NAS01', from_address = 'nas@example.com',
         admin_address = 'admin@example.com', rewrite_from = true, timeout_seconds = 5, pool_size = 3, lifetime_hours = 48, delay_warning_hours = 0,
         report_enabled = true, report_time = '06:30', retention_days = 30, storm_window_minutes = 15, storm_max_duplicates = 2, sender_rate_limit_per_minute = 50,
         aliases = '{"root": ["ops@example.com"], "backup": ["backup@example.com", "oncall@example.com"]}', updated_at = '2026-11-01T10:00:00Z'
       WHERE id = 1`,
      [relayPort, sealed.password_sealed, sealed.oauth_client_secret_sealed, sealed.oauth_refresh_token_sealed, sealed.oauth_service_account_key_sealed],
    );
    const backups = await db.query<{ id: number }>(
      `INSERT INTO relay (host, port, security, tls_verify, auth_enabled, username, password_sealed, priority, enabled, created_at, updated_at) VALUES
         ('backup1.example.com', 2587, 'starttls', true, true, 'backupuser', $1, 5, true, '2026-10-01T08:00:00Z', '2026-10-02T08:00:00Z'),
         ('backup2.example.com', NULL, 'tls', false, false, '', NULL, 10, false, '2026-10-03T08:00:00Z', '2026-10-03T08:00:00Z')
       RETURNING id`,
      [box.seal(PREVIOUS_SECRETS.backupPassword)],
    );
    const backupIds = backups.rows.map((r) => r.id) as [number, number];
    await db.query(
      `INSERT INTO relay_health (relay_key, relay, last_success_at, last_failure_at, last_failure_reason, last_failure_kind, latency_ms, last_latency_ms, successes, failures) VALUES
         ('primary', $1, '2026-11-02T10:00:00Z', '2026-11-02T09:00:00Z', 'connect ECONNREFUSED', 'connection', 40, 35, 7, 2),
         ($2, 'backup1.example.com:2587', '2026-11-02T09:00:05Z', NULL, NULL, NULL, 80, 80, 2, 0)`,
      [`127.0.0.1:${relayPort}`, String(backupIds[0])],
    );

    // Ids sortable by creation, as the queue makes them; the future keeps waiting messages waiting.
    const now = Date.now();
    const id = (n: number) => newQueueId(now - 3_600_000 + n);
    const messages = { queued: id(1), deferred: id(2), held: id(3), stormDuplicate: id(4), stormRate: id(5), sending: id(6) };
    const later = new Date(now + 86_400_000);
    const rows: [string, string, string[], string, Record<string, unknown>][] = [
      [messages.queued, 'queued', ['ops@example.com'], 'Queued for later', {}],
      [messages.deferred, 'deferred', ['ops@example.com', 'dba@example.com'], 'Deferred twice', { attempts: 2, last_error: '451 4.3.0 try again later' }],
      [messages.held, 'hold', ['ops@example.com'], 'Held by the operator', {}],
      [messages.stormDuplicate, 'hold', ['ops@example.com'], 'Pool degraded', { last_error: 'held: duplicate alert (digest at the end of the window)' }],
      [messages.stormRate, 'hold', ['ops@example.com'], 'Disk 3 warm', { last_error: 'held: sender over its rate (digest at the end of the minute)' }],
      [messages.sending, 'sending', ['admin@example.com'], 'In flight at the upgrade', { lease_owner: 'nas-1234', lease_until: later, attempts: 1, original_recipients: { 'admin@example.com': 'root' } }],
    ];
    for (const [queueId, state, recipients, subject, extra] of rows) {
      const data = Buffer.from(`From: cron@nas.example.com\r\nTo: ${recipients.join(', ')}\r\nSubject: ${subject}\r\nMessage-ID: <${queueId}@nas.example.com>\r\n\r\n${subject}: ${'x'.repeat(200)}\r\n`);
      await db.query(
        `INSERT INTO message (id, state, sender, recipients, subject, message_id, size, client_address, created_at, next_attempt_at, attempts, last_error, lease_owner, lease_until, original_recipients)
         VALUES ($1, $2, 'cron@nas.example.com', $3, $4, $5, $6, '127.0.0.1', $7, $8, $9, $10, $11, $12, $13)`,
        [queueId, state, recipients, subject, `<${queueId}@nas.example.com>`, data.length, new Date(now - 3_600_000), later, extra.attempts ?? 0, extra.last_error ?? null, extra.lease_owner ?? null, extra.lease_until ?? null, extra.original_recipients ? JSON.stringify(extra.original_recipients) : null],
      );
      await db.query(`INSERT INTO message_body (id, data) VALUES ($1, $2)`, [queueId, data]);
    }
    await db.query(
      `INSERT INTO storm_hold (id, reason, digest_key, digest_due_at) VALUES ($1, 'duplicate', 'dup:pool degraded', $3), ($2, 'rate', 'rate:cron@nas.example.com', $3)`,
      [messages.stormDuplicate, messages.stormRate, later],
    );

    const log = await db.query<{ id: string }>(
      `INSERT INTO mail_log (at, queue_id, message_id, event, sender, recipient, relay, size, delay_ms, attempt, reply, client_address, subject, original_recipient) VALUES
         (now() - interval '2 hours', $1, '<a@nas>', 'received', 'cron@nas.example.com', 'ops@example.com', NULL, 300, NULL, NULL, NULL, '127.0.0.1', 'Queued for later', NULL),
         (now() - interval '2 hours', $2, '<b@nas>', 'deferred', 'cron@nas.example.com', 'dba@example.com', $7, 300, 1500, 2, '451 4.3.0 try again later', NULL, 'Deferred twice', NULL),
         (now() - interval '3 hours', 'OLDSENT0000000001', '<c@nas>', 'sent', 'cron@nas.example.com', 'ops@example.com', $7, 300, 120, 1, '250 2.0.0 Ok: queued', NULL, 'Yesterday', NULL),
         (now() - interval '3 hours', 'OLDBOUNCE00000001', '<d@nas>', 'bounced', 'cron@nas.example.com', 'nobody@example.com', $7, 300, 90, 1, '550 5.1.1 no such user', NULL, 'Bounced', NULL),
         (now() - interval '3 hours', NULL, NULL, 'rejected', 'spam@example.net', 'ops@example.com', NULL, 0, NULL, NULL, '554 5.7.1 network not allowed', '192.0.2.9', NULL, NULL),
         (now() - interval '1 hour', $3, '<e@nas>', 'received', 'cron@nas.example.com', 'admin@example.com', NULL, 300, NULL, NULL, NULL, '127.0.0.1', 'In flight at the upgrade', 'root'),
         (now() - interval '1 hour', $4, '<f@nas>', 'received', 'cron@nas.example.com', 'ops@example.com', NULL, 300, NULL, NULL, NULL, '127.0.0.1', 'Pool degraded', NULL),
         (now() - interval '1 hour', $5, '<g@nas>', 'received', 'cron@nas.example.com', 'ops@example.com', NULL, 300, NULL, NULL, NULL, '127.0.0.1', 'Disk 3 warm', NULL),
         (now() - interval '1 hour', $6, '<h@nas>', 'received', 'cron@nas.example.com', 'ops@example.com', NULL, 300, NULL, NULL, NULL, '127.0.0.1', 'Held by the operator', NULL)
       RETURNING id`,
      [messages.queued, messages.deferred, messages.sending, messages.stormDuplicate, messages.stormRate, messages.held, `127.0.0.1:${relayPort}`],
    );
    const events = await db.query<{ id: string }>(
      `INSERT INTO event (at, level, source, message, details) VALUES
         (now() - interval '3 hours', 'info', 'settings', 'Settings changed by admin: relayHost, password', '{"actor": "admin", "changed": {"relayHost": {"from": "", "to": "127.0.0.1"}, "password": "(changed)"}}'),
         (now() - interval '2 hours', 'warning', 'delivery', 'Relay 127.0.0.1 is failing (connection): connect ECONNREFUSED', '{"relayKey": "primary", "kind": "connection"}'),
         (now() - interval '1 hour', 'info', 'storm', 'Alert storm: held back duplicates of "Pool degraded"', '{"reason": "duplicate"}'),
         (now() - interval '1 hour', 'error', 'delivery', 'OAuth2 token request to OAuth2 provider failed (invalid_client)', '{"error": "invalid_client"}')
       RETURNING id`,
    );
    return { sealed, backupIds, messages, mailLogIds: log.rows.map((r) => r.id), eventIds: events.rows.map((r) => r.id) };
  } finally {
    await db.end();
  }
}
