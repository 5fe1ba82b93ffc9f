import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { NotFound } from '../../src/common/domain-errors.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { DEFAULT_OAUTH_URLS } from '../../src/config/oauth-urls.js';
import { PgNotifier } from '../../src/database/pg-notifier.js';
import { sqlOf } from '../../src/database/sql.js';
import type { MxResolver } from '../../src/delivery/direct-transport.js';
import { stubResolver } from '../helpers/stub-resolver.js';
import { OAuthTokenService } from '../../src/delivery/oauth/oauth-token.service.js';
import { TestEmailService } from '../../src/delivery/test-email.service.js';
import { EventLogService } from '../../src/events/event-log.service.js';
import { MailLogService } from '../../src/mail-log/mail-log.service.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { PrimaryRelayService } from '../../src/relays/primary-relay.service.js';
import { RelayHealthService } from '../../src/relays/relay-health.service.js';
import { RelaysService } from '../../src/relays/relays.service.js';
import { SecretBox } from '../../src/relays/secret-box.js';
import { SettingsService } from '../../src/settings/settings.service.js';

const BACKUP_PASSWORD = 'Backup-' + randomBytes(6).toString('hex');

/**
 * The test email through any saved relay (POST /api/v1/relays/:id/test) and, with no relay
 * host, through direct delivery's own MX loop: real PostgreSQL, loopback sinks, a stub resolver.
 */
describe('TestEmailService: any relay by its id, and direct delivery with the MX loop of real delivery', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let notifier: PgNotifier;
  let events: EventLogService;
  let relays: RelaysService;
  let settings: SettingsService;
  let primary: PrimaryRelayService;
  const backup = new SmtpSink({ starttls: false, auth: { user: 'backupuser', pass: BACKUP_PASSWORD } });
  const mx = new SmtpSink({ starttls: false });

  const service = (resolver: MxResolver) => {
    const config = { ...loadConfig({}), directPort: mx.port };
    return new TestEmailService(settings, primary, relays, events, new MailLogService(sqlOf(ds), new MetricsService(silentLogger)), config, new OAuthTokenService(primary, settings, events, DEFAULT_OAUTH_URLS, config), resolver);
  };

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    await Promise.all([backup.start(), mx.start()]);
    const box = new SecretBox(randomBytes(32));
    events = new EventLogService(sqlOf(ds), silentLogger);
    notifier = new PgNotifier(ds, silentLogger);
    primary = new PrimaryRelayService(ds, box, events, notifier);
    settings = new SettingsService(ds, box, events, notifier, primary);
    relays = new RelaysService(ds, box, events, notifier, new RelayHealthService(ds, events, silentLogger));
  });

  afterAll(async () => {
    await Promise.all([backup.stop(), mx.stop()]);
    await notifier?.onApplicationShutdown();
    await close?.();
  });

  beforeEach(async () => {
    await ds.query(`DELETE FROM settings; INSERT INTO settings (id, updated_at, from_address) VALUES (1, now(), 'nas@example.com')`);
    await ds.query(`DELETE FROM relay; INSERT INTO relay (host, priority, updated_at) VALUES ('', 0, now())`);
    await ds.query(`DELETE FROM event; DELETE FROM mail_log`);
  });

  it('tests one backup relay by its id, disabled or not, logging in with its own password; 404 for an unknown id', async () => {
    const created = await relays.create(
      { host: '127.0.0.1', port: backup.port, security: 'none', authEnabled: true, username: 'backupuser', password: BACKUP_PASSWORD, priority: 5, enabled: false },
      'api',
    );
    const result = await service(stubResolver({}, {})).runOnRelay(created.id, { to: 'ops@example.net' }, 'api');
    expect(result).toMatchObject({ ok: true, step: 'done', relay: `127.0.0.1:${backup.port}`, unsaved: false });
    expect(backup.authAttempts.at(-1)).toEqual({ user: 'backupuser', ok: true });
    expect(backup.messages.at(-1)!.to).toEqual(['ops@example.net']);
    expect(result.transcript.join('\n')).not.toContain(BACKUP_PASSWORD);

    const [event] = await ds.query(`SELECT message, details FROM event WHERE message LIKE 'Test email%'`);
    expect(event.details).toMatchObject({ ok: true, relayId: created.id, relay: `127.0.0.1:${backup.port}` });
    expect(JSON.stringify(event)).not.toContain(BACKUP_PASSWORD);

    await expect(service(stubResolver({}, {})).runOnRelay('999999', { to: 'ops@example.net' }, 'api')).rejects.toBeInstanceOf(NotFound);
  });

  it('with no relay host, tries the MX hosts in preference order like real delivery: the first is down, the second takes it', async () => {
    const resolver = stubResolver(
      { 'example.net': [{ exchange: 'mx2.example.net', priority: 20 }, { exchange: 'mx1.example.net', priority: 10 }] },
      { 'mx1.example.net': ['127.0.0.2'], 'mx2.example.net': ['127.0.0.1'] },
    );
    const before = mx.messages.length;
    const result = await service(resolver).run({ to: 'ops@example.net' }, 'api');
    expect(result).toMatchObject({ ok: true, step: 'done', relay: `mx2.example.net[127.0.0.1]:${mx.port}` });
    expect(resolver.asked).toEqual(['MX example.net', 'A mx1.example.net', 'A mx2.example.net']);
    expect(result.transcript.join('\n')).toMatch(/Trying mx1\.example\.net\[127\.0\.0\.2\]/);
    expect(mx.messages.length).toBe(before + 1);
  });

  it('falls back to the address record of a domain without MX, as real delivery does', async () => {
    const resolver = stubResolver({}, { 'nomx.example': ['127.0.0.1'] });
    const result = await service(resolver).run({ to: 'ops@nomx.example' }, 'api');
    expect(result).toMatchObject({ ok: true, relay: `nomx.example[127.0.0.1]:${mx.port}` });
    expect(resolver.asked).toEqual(['MX nomx.example', 'A nomx.example']);
  });

  it('fails at the dns step when the domain has neither MX nor address', async () => {
    const result = await service(stubResolver({}, {})).run({ to: 'ops@nowhere.example' }, 'api');
    expect(result).toMatchObject({ ok: false, step: 'dns' });
    expect(result.reply).toMatch(/nowhere\.example/);
  });
});
