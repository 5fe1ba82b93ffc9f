import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { PREVIOUS_SECRETS, PREVIOUS_SECRET_KEY, PreviousRelease, fillPreviousRelease } from '../helpers/previous-release.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { sql } from '../helpers/sql.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { events, mailLog } from './api.js';

interface Relay {
  id: string;
  primary: boolean;
  relay: string;
  priority: number;
  enabled: boolean;
  passwordSet: boolean;
  secretsUnreadable: string[];
  health: { status: string; successes: number; failures: number; lastFailureReason: string | null };
}

/** What the fixture left, read straight from the tables before the new build ever saw them. */
const SNAPSHOTS = {
  messages: `SELECT m.*, md5(b.data) AS body FROM message m JOIN message_body b USING (id) ORDER BY m.id`,
  stormHolds: `SELECT * FROM storm_hold ORDER BY id`,
  mailLog: `SELECT * FROM mail_log ORDER BY id`,
  events: `SELECT * FROM event ORDER BY id`,
  backups: `SELECT * FROM relay ORDER BY id`,
};

type Rows = Record<string, unknown>[];

/** The rows with only the columns the previous release had: a later migration may add columns, never change these. */
const asBefore = (rows: Rows, before: Rows | undefined): Rows => rows.map((r) => Object.fromEntries(Object.keys(before?.[0] ?? r).map((k) => [k, r[k]])));

/**
 * Upgrades are safe: an appliance updates Postroom in place over its existing database. The
 * database is made by the migrations of the release before relays were modelled once and filled
 * as that release would have it (test/helpers/previous-release.ts); then the new build starts on
 * it. Keep this test, with its fixture as it is, for every later migration.
 */
describe('upgrade in place: the new build starts on the database of the previous release', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let old: PreviousRelease;
  const before: Partial<Record<keyof typeof SNAPSHOTS, Rows>> = {};
  const relay = new SmtpSink({ starttls: false, auth: { user: 'relayuser', pass: PREVIOUS_SECRETS.password } });
  const relayAddress = () => `127.0.0.1:${relay.port}`;

  beforeAll(async () => {
    await relay.start();
    db = await createTestDatabase('template0');
    old = await fillPreviousRelease(db.url, relay.port);
    for (const [name, query] of Object.entries(SNAPSHOTS)) before[name as keyof typeof SNAPSHOTS] = await sql(db.url, query);
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { SECRET_KEY: PREVIOUS_SECRET_KEY, ADMIN_PASSWORD: WEB_PASSWORD } }).start();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await relay.stop();
    await db?.drop();
  });

  it('runs the new migrations: the primary relay is now the relay of priority 0, its secrets the very bytes they were', async () => {
    const done = (await sql<{ name: string }>(db.url, `SELECT name FROM postroom_migrations`)).map((r) => r.name);
    expect(done).toContain('PrimaryRelay1763890000000');
    expect(await sql(db.url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'settings' AND column_name IN ('relay_host', 'password_sealed', 'oauth_client_secret_sealed')`)).toEqual([]);

    const [primary, ...others] = await sql(db.url, `SELECT * FROM relay ORDER BY priority, id`);
    expect(primary).toMatchObject({
      host: '127.0.0.1',
      port: relay.port,
      security: 'none',
      tls_verify: false,
      auth_enabled: true,
      username: 'relayuser',
      auth_method: 'password',
      oauth_provider: 'generic',
      oauth_tenant_id: 'contoso.onmicrosoft.com',
      oauth_client_id: 'postroom-client',
      oauth_token_url: 'https://login.example.com/token',
      oauth_scope: 'smtp.send',
      oauth_client_auth: 'basic',
      priority: 0,
      enabled: true,
      ...old.sealed,
    });
    expect((primary!.updated_at as Date).toISOString()).toBe('2026-11-01T10:00:00.000Z');
    expect(others.map((r) => [r.id, r.priority, r.auth_method, r.oauth_client_secret_sealed])).toEqual([
      [old.backupIds[0], 5, 'password', null],
      [old.backupIds[1], 10, 'password', null],
    ]);
    expect(asBefore(await sql(db.url, `SELECT * FROM relay WHERE priority > 0 ORDER BY id`), before.backups)).toEqual(before.backups);
  });

  it('shows the settings as before through GET /api/v1/settings, every secret readable with the same SECRET_KEY', async () => {
    const settings = await postroom.api<Record<string, unknown>>('GET', '/api/v1/settings');
    expect(settings.status).toBe(200);
    expect(settings.body).toMatchObject({
      relayHost: '127.0.0.1',
      relayPort: relay.port,
      effectivePort: relay.port,
      security: 'none',
      tlsVerify: false,
      authEnabled: true,
      username: 'relayuser',
      passwordSet: true,
      authMethod: 'password',
      oauthProvider: 'generic',
      oauthTenantId: 'contoso.onmicrosoft.com',
      oauthClientId: 'postroom-client',
      oauthClientSecretSet: true,
      oauthRefreshTokenSet: true,
      oauthServiceAccountKeySet: true,
      oauthTokenUrl: 'https://login.example.com/token',
      oauthScope: 'smtp.send',
      oauthClientAuth: 'basic',
      hostname: 'nas.example.com',
      fromName: 'NAS01',
      fromAddress: 'nas@example.com',
      adminAddress: 'admin@example.com',
      rewriteFrom: true,
      timeoutSeconds: 5,
      poolSize: 3,
      lifetimeHours: 48,
      reportEnabled: true,
      reportTime: '06:30',
      retentionDays: 30,
      stormWindowMinutes: 15,
      stormMaxDuplicates: 2,
      senderRateLimitPerMinute: 50,
      aliases: { root: ['ops@example.com'], backup: ['backup@example.com', 'oncall@example.com'] },
      secretsUnreadable: [],
      updatedAt: '2026-11-01T10:00:00.000Z',
    });
    expect((await events(postroom, 'source=settings&level=warning')).filter((e) => /SECRET_KEY/.test(e.message))).toEqual([]);
  });

  it('lists the primary first and the two backups with GET /api/v1/relays, each with the health it had', async () => {
    const relays = (await postroom.api<{ items: Relay[] }>('GET', '/api/v1/relays')).body.items;
    expect(relays.map((r) => [r.id, r.primary, r.priority, r.enabled, r.passwordSet, r.secretsUnreadable])).toEqual([
      ['primary', true, 0, true, true, []],
      [String(old.backupIds[0]), false, 5, true, true, []],
      [String(old.backupIds[1]), false, 10, false, false, []],
    ]);
    expect(relays[0]!.relay).toBe(relayAddress());
    expect(relays[0]!.health.successes).toBeGreaterThanOrEqual(7);
    expect(relays[0]!.health.failures).toBe(2);
    expect(relays[1]!.health).toMatchObject({ status: 'healthy', successes: 2, failures: 0 });
    expect((await postroom.api('PUT', '/api/v1/relays/primary', { priority: 3 })).status).toBe(409);
  });

  it('delivers the message that was in flight at the upgrade through the migrated primary relay, logging in with its password', async () => {
    await relay.waitFor(1);
    expect(relay.authAttempts).toEqual([{ user: 'relayuser', ok: true }]);
    expect(relay.messages[0]!.to).toEqual(['admin@example.com']);
    expect(relay.messages[0]!.data.toString()).toContain('Subject: In flight at the upgrade');
    const sent = await postroom.until(async () => (await mailLog(postroom, `queueId=${old.messages.sending}&event=sent`))[0], 'the sent entry');
    expect(sent).toMatchObject({ relay: relayAddress(), to: 'admin@example.com', originalTo: 'root' });
    expect((await postroom.api('GET', `/api/v1/queue/${old.messages.sending}`)).status).toBe(404);
  });

  it('keeps every other message with its body and storm hold, every mail-log entry and every event as they were', async () => {
    const waiting = (before.messages ?? []).filter((m) => m.id !== old.messages.sending);
    expect(waiting.map((m) => m.state)).toEqual(['queued', 'deferred', 'hold', 'hold', 'hold']);
    expect(asBefore(await sql(db.url, SNAPSHOTS.messages), waiting)).toEqual(waiting);
    expect(asBefore(await sql(db.url, SNAPSHOTS.stormHolds), before.stormHolds)).toEqual(before.stormHolds);
    expect(asBefore(await sql(db.url, `SELECT * FROM mail_log WHERE id = ANY($1) ORDER BY id`, [old.mailLogIds]), before.mailLog)).toEqual(before.mailLog);
    expect(asBefore(await sql(db.url, `SELECT * FROM event WHERE id = ANY($1) ORDER BY id`, [old.eventIds]), before.events)).toEqual(before.events);
    const queue = await postroom.api<{ items: { id: string; state: string }[] }>('GET', '/api/v1/queue?limit=500');
    expect(queue.body.items.map((m) => [m.id, m.state]).sort()).toEqual(waiting.map((m) => [m.id, m.state]).sort());
  });

  it('takes a settings change after the upgrade on the migrated rows, keeping the stored password for the same relay', async () => {
    const put = await postroom.api<Record<string, unknown>>('PUT', '/api/v1/settings', { fromName: 'NAS01 (upgraded)', relayPort: relay.port, password: '' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ fromName: 'NAS01 (upgraded)', passwordSet: true, secretsUnreadable: [] });
    const [primary] = await sql<{ password_sealed: string }>(db.url, `SELECT password_sealed FROM relay WHERE priority = 0`);
    expect(primary!.password_sealed).toBe(old.sealed.password_sealed);
    const web = await new WebSession(postroom).login();
    const page = await web.get('/settings');
    expect(page.text).toContain(`value="${relay.port}"`);
    expect(page.text).toMatch(/id="f-password-state">set</);
  });
});
