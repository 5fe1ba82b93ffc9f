import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { Page, events, mailLog, submitSmtp } from './api.js';

interface Health {
  status: 'healthy' | 'failing' | 'unknown';
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastFailureReason: string | null;
  lastFailureKind: string | null;
  latencyMs: number | null;
  lastLatencyMs: number | null;
  successes: number;
  failures: number;
}

interface Relay {
  id: string;
  primary: boolean;
  host: string;
  port: number | null;
  effectivePort: number;
  relay: string;
  security: string;
  tlsVerify: boolean;
  authEnabled: boolean;
  username: string;
  passwordSet: boolean;
  priority: number;
  enabled: boolean;
  health: Health;
}

interface Invalid {
  message: string;
  fields: Record<string, string>;
}

/**
 * Relay failover on the real app with real sinks on loopback: the primary relay (the settings')
 * is down, a backup takes the mail; the primary comes back and takes it again; the health of
 * both says so. Plus the relays API: validation, secrets, the event log. The tests run in order.
 */
describe('relays: failover and per-relay health', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const first = new SmtpSink({ starttls: false });
  const second = new SmtpSink({ starttls: false });
  const secret = 'Backup-Relay-Pa55-' + Math.random().toString(36).slice(2);

  const relays = async (): Promise<Relay[]> => {
    const r = await postroom.api<Page<Relay>>('GET', '/api/v1/relays');
    expect(r.status).toBe(200);
    expect(r.body.nextCursor).toBeNull();
    return r.body.items;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await Promise.all([first.start(), second.start()]);
    await first.stop(); // keeps its port: the primary relay is down until it starts again
    // A one-second back-off, so "the first relay is back" shows without waiting 30 s.
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { RELAY_RETRY_SECONDS: '1', ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    const put = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: first.port, security: 'none', tlsVerify: false, fromAddress: 'nas@example.com' });
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await Promise.all([first.stop(), second.stop()]);
    await db?.drop();
  });

  it('lists the primary relay of the settings, with priority 0 and no health yet', async () => {
    expect(await relays()).toEqual([
      expect.objectContaining({
        id: 'primary',
        primary: true,
        host: '127.0.0.1',
        port: first.port,
        relay: `127.0.0.1:${first.port}`,
        security: 'none',
        priority: 0,
        enabled: true,
        passwordSet: false,
        health: expect.objectContaining({ status: 'unknown', lastSuccessAt: null, lastFailureAt: null, successes: 0, failures: 0 }),
      }),
    ]);
  });

  it('refuses an invalid relay with one reason per field and saves nothing', async () => {
    const missing = await postroom.api<Invalid>('POST', '/api/v1/relays', { port: 25 });
    expect(missing.status).toBe(400);
    expect(missing.body.fields).toEqual({ host: expect.stringMatching(/required/) });

    const bad = await postroom.api<Invalid>('POST', '/api/v1/relays', {
      host: 'not a host!',
      port: 70000,
      security: 'ssl',
      tlsVerify: 'yes',
      authEnabled: 1,
      priority: 0,
      enabled: 'no',
      password: 42,
      colour: 'red',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('Invalid relay: nothing was saved');
    expect(Object.keys(bad.body.fields).sort()).toEqual(['authEnabled', 'colour', 'enabled', 'host', 'password', 'port', 'priority', 'security', 'tlsVerify']);
    expect(bad.body.fields).toMatchObject({
      host: 'must be a host name or an IP address',
      port: expect.stringMatching(/1-65535/),
      security: 'must be one of none, starttls, tls',
      tlsVerify: 'must be true or false',
      priority: expect.stringMatching(/at least 1/),
      enabled: 'must be true or false',
      password: 'must be text (empty keeps the stored one) or null to clear it',
      colour: 'is not a relay field',
    });

    const noCredentials = await postroom.api<Invalid>('POST', '/api/v1/relays', { host: 'backup.example.com', authEnabled: true });
    expect(noCredentials.status).toBe(400);
    expect(noCredentials.body.fields).toEqual({ username: 'is required when SASL authentication is on', password: 'is required when SASL authentication is on' });

    expect((await relays()).map((r) => r.id)).toEqual(['primary']);
    expect((await events(postroom, 'source=settings')).filter((e) => e.message.startsWith('Relay '))).toEqual([]);
  });

  it('adds, changes and removes a backup relay; the password is sealed, never returned, never logged', async () => {
    const added = await postroom.api<Relay>('POST', '/api/v1/relays', {
      host: 'smtp.backup.example.com',
      port: 2587,
      security: 'starttls',
      authEnabled: true,
      username: 'backupuser',
      password: secret,
      priority: 5,
      enabled: false, // not used for delivery while we play with it
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ primary: false, host: 'smtp.backup.example.com', port: 2587, relay: 'smtp.backup.example.com:2587', authEnabled: true, username: 'backupuser', passwordSet: true, priority: 5, enabled: false });
    expect(added.body).not.toHaveProperty('password');
    expect(added.body).not.toHaveProperty('passwordSealed');
    expect(JSON.stringify(added.body)).not.toContain(secret);
    const id = added.body.id;
    expect(id).toMatch(/^\d+$/);

    // An empty password keeps the stored one while host, port and security stay; the other fields change.
    const kept = await postroom.api<Relay>('PUT', `/api/v1/relays/${id}`, { password: '', priority: 7 });
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ passwordSet: true, priority: 7, port: 2587 });
    // Another port or security mode needs the password again: it was saved for the old ones.
    const moved = await postroom.api<Invalid>('PUT', `/api/v1/relays/${id}`, { password: '', port: null, security: 'tls' });
    expect(moved.status).toBe(400);
    expect(moved.body.fields).toEqual({ password: 'was saved for another host: enter the password again for the new host' });
    const newPassword = secret + '-2';
    const changed = await postroom.api<Relay>('PUT', `/api/v1/relays/${id}`, { password: newPassword, port: null, security: 'tls' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ passwordSet: true, priority: 7, port: null, effectivePort: 465, relay: 'smtp.backup.example.com:465' });

    const badChange = await postroom.api<Invalid>('PUT', `/api/v1/relays/${id}`, { port: 'x', host: '' });
    expect(badChange.status).toBe(400);
    expect(badChange.body.fields).toEqual({ port: expect.stringMatching(/1-65535/), host: expect.stringMatching(/required/) });
    const clearsPassword = await postroom.api<Invalid>('PUT', `/api/v1/relays/${id}`, { password: null });
    expect(clearsPassword.status).toBe(400); // auth is on: a password is required
    expect(clearsPassword.body.fields).toEqual({ password: 'is required when SASL authentication is on' });

    expect((await postroom.api('PUT', '/api/v1/relays/primary', { priority: 3 })).status).toBe(409);
    expect((await postroom.api('DELETE', '/api/v1/relays/primary')).status).toBe(409);
    expect((await postroom.api('PUT', '/api/v1/relays/999999', { priority: 3 })).status).toBe(404);
    expect((await postroom.api('GET', '/api/v1/relays/nope')).status).toBe(404);

    const listed = await relays();
    expect(listed.map((r) => [r.id, r.priority])).toEqual([
      ['primary', 0],
      [id, 7],
    ]);

    expect(await postroom.api('DELETE', `/api/v1/relays/${id}`)).toEqual({ status: 200, body: { deleted: id } });
    expect((await postroom.api('DELETE', `/api/v1/relays/${id}`)).status).toBe(404);
    expect((await relays()).map((r) => r.id)).toEqual(['primary']);

    const log = (await events(postroom, 'source=settings')).filter((e) => e.message.startsWith('Relay ')).reverse();
    expect(log.map((e) => e.message)).toEqual([
      'Relay smtp.backup.example.com:2587 added by api (priority 5)',
      'Relay smtp.backup.example.com:2587 changed by api: priority',
      'Relay smtp.backup.example.com:465 changed by api: port, security, password',
      'Relay smtp.backup.example.com:465 removed by api',
    ]);
    expect(log[0]!.details).toMatchObject({ actor: 'api', relayId: id, relay: { host: 'smtp.backup.example.com', port: 2587, username: 'backupuser', passwordSet: true } });
    expect(log[1]!.details.changed).toEqual({ priority: { from: 5, to: 7 } });
    expect(log[2]!.details.changed).toEqual({ port: { from: 2587, to: null }, security: { from: 'starttls', to: 'tls' }, password: '(changed)' });

    for (const url of ['/api/v1/relays', '/api/v1/events?limit=500', '/api/v1/settings']) {
      const body = JSON.stringify((await postroom.api('GET', url)).body);
      expect(body, url).not.toContain(secret);
    }
    expect(postroom.output).not.toContain(secret);
  });

  it('fails over: the first relay is down, the second receives; the first is back, it is used again; the health shows both', async () => {
    const backup = await postroom.api<Relay>('POST', '/api/v1/relays', { host: '127.0.0.1', port: second.port, security: 'none' });
    expect(backup.status).toBe(201);
    expect(backup.body.priority).toBe(1);
    const firstRelay = `127.0.0.1:${first.port}`;
    const secondRelay = `127.0.0.1:${second.port}`;

    // 1. The primary is down: the backup takes the message at once (no deferral).
    const id1 = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'RAID degraded', text: 'md0: disk 2 removed' });
    await second.waitFor(1);
    expect(second.messages[0]!.to).toEqual(['ops@example.com']);
    expect(second.messages[0]!.data.toString()).toContain(id1);
    const sent1 = await postroom.until(async () => {
      const e = await mailLog(postroom, `queueId=${id1}&event=sent`);
      return e.length ? e : undefined;
    }, 'the first sent entry');
    expect(sent1[0]).toMatchObject({ to: 'ops@example.com', relay: secondRelay, attempt: 1 });
    expect((await mailLog(postroom, `queueId=${id1}`)).some((e) => e.event === 'deferred')).toBe(false);

    let [primary, second1] = await relays();
    expect(primary!.health).toMatchObject({ status: 'failing', lastFailureKind: 'connection', failures: 1, successes: 0, lastSuccessAt: null });
    expect(primary!.health.lastFailureReason).toMatch(/ECONNREFUSED/);
    expect(second1!.health).toMatchObject({ status: 'healthy', successes: 1, failures: 0, lastFailureAt: null });
    expect(second1!.health.lastSuccessAt).not.toBeNull();
    expect(second1!.health.latencyMs).toEqual(expect.any(Number));

    const warnings = await events(postroom, 'source=delivery&level=warning');
    expect(warnings.find((e) => e.message.startsWith(`Relay ${firstRelay} is failing (connection)`))?.details).toMatchObject({ relay: firstRelay, relayKey: 'primary', kind: 'connection' });

    // 2. The primary is back: after the (one-second) back-off it takes the next message.
    await first.start();
    await new Promise((r) => setTimeout(r, 1200));
    const id2 = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'RAID rebuilt', text: 'md0: clean' });
    await first.waitFor(1);
    expect(first.messages[0]!.data.toString()).toContain(id2);
    const sent2 = await postroom.until(async () => {
      const e = await mailLog(postroom, `queueId=${id2}&event=sent`);
      return e.length ? e : undefined;
    }, 'the second sent entry');
    expect(sent2[0]).toMatchObject({ relay: firstRelay, attempt: 1 });
    expect(second.messages).toHaveLength(1);

    [primary, second1] = await relays();
    expect(primary!.health).toMatchObject({ status: 'healthy', lastFailureKind: 'connection', successes: 1, failures: 1 });
    expect(primary!.health.lastFailureReason).toMatch(/ECONNREFUSED/);
    expect(new Date(primary!.health.lastSuccessAt!).getTime()).toBeGreaterThan(new Date(primary!.health.lastFailureAt!).getTime());
    expect(second1!.health).toMatchObject({ status: 'healthy', successes: 1 });

    const infos = await events(postroom, 'source=delivery&level=info');
    expect(infos.some((e) => e.message === `Relay ${firstRelay} is working again`)).toBe(true);

    // 3. The dashboard's home shows the relays with their health.
    const web = await new WebSession(postroom).login();
    const home = await web.get('/');
    expect(home.status).toBe(200);
    const fragment = await web.get('/dashboard/status', true);
    for (const html of [home.text, fragment.text]) {
      expect(html).toContain('aria-label="Relays"');
      expect(html).toMatch(new RegExp(`healthy</span> ${firstRelay} <span class="muted">priority 0 \\(primary\\)`));
      expect(html).toMatch(new RegExp(`healthy</span> ${secondRelay} <span class="muted">priority 1<`));
    }
  });

  it('shows a failing relay with its reason on the dashboard, and defers with every relay named when all are down', async () => {
    await Promise.all([first.stop(), second.stop()]);
    const id = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'UPS on battery', text: 'mains lost' });
    const deferred = await postroom.until(async () => {
      const e = await mailLog(postroom, `queueId=${id}&event=deferred`);
      return e.length ? e : undefined;
    }, 'the deferral');
    expect(deferred[0]!.reply).toMatch(new RegExp(`^all 2 relays failed — 127\\.0\\.0\\.1:${first.port}: .*ECONNREFUSED.*; 127\\.0\\.0\\.1:${second.port}: .*ECONNREFUSED`));

    const list = await relays();
    expect(list.map((r) => r.health.status)).toEqual(['failing', 'failing']);
    const web = await new WebSession(postroom).login();
    const fragment = await web.get('/dashboard/status', true);
    expect(fragment.text).toMatch(new RegExp(`failing</span> 127\\.0\\.0\\.1:${first.port} .*ECONNREFUSED`));
  });
});
