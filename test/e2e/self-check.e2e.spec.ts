import nodemailer from 'nodemailer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { HttpSink } from '../helpers/http-sink.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { Page, events, mailLog, submitSmtp, untilState } from './api.js';

interface RelayHealth {
  status: string;
  lastFailureKind: string | null;
  lastFailureReason: string | null;
}

/**
 * The mail path checking itself, on the real app: the relay probe (a wrong password found with
 * no message sent, and the fix seen at once), the dead man's switch, and the queue-age alarm
 * (raised once, with one notice to the channels of the undelivered rules, and ended). The
 * checks look every second here (SELF_CHECK_SECONDS). The tests run in order.
 */
describe('self-check: relay probe, dead man’s switch, queue-age alarm', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false, auth: { user: 'nas', pass: 'right-password' } });
  const http = new HttpSink();

  const primaryHealth = async () => (await postroom.api<Page<{ id: string; health: RelayHealth }>>('GET', '/api/v1/relays')).body.items.find((r) => r.id === 'primary')!.health;

  beforeAll(async () => {
    db = await createTestDatabase();
    await Promise.all([sink.start(), http.start()]);
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { SELF_CHECK_SECONDS: '1', ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    const put = await postroom.api('PUT', '/api/v1/settings', {
      relayHost: '127.0.0.1',
      relayPort: sink.port,
      security: 'none',
      authEnabled: true,
      username: 'nas',
      password: 'wrong-password',
      fromAddress: 'nas@example.com',
      probeMinutes: 60,
      heartbeatUrl: `${http.url}/ping/check-uuid`,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await Promise.all([sink.stop(), http.stop()]);
    await db?.drop();
  });

  it('finds a wrong password by logging in, with no message sent', async () => {
    const health = await postroom.until(async () => {
      const h = await primaryHealth();
      return h.status === 'failing' ? h : undefined;
    }, 'the probe to fail');
    expect(health).toMatchObject({ lastFailureKind: 'auth', lastFailureReason: expect.stringMatching(/^probe: .*535/) });
    expect(sink.authAttempts).toContainEqual({ user: 'nas', ok: false });
    expect(sink.messages).toHaveLength(0);
    const failing = await events(postroom, 'level=warning');
    expect(failing.some((e) => /^Relay 127\.0\.0\.1:\d+ is failing \(auth\): probe:/.test(e.message))).toBe(true);
    const metrics = await (await fetch(`${postroom.baseUrl}/metrics`, { headers: { authorization: `Bearer ${postroom.token}` } })).text();
    expect(metrics).toMatch(/postroom_relay_probes_total\{relay="127\.0\.0\.1:\d+",result="failed"\} [1-9]/);
    expect(http.received).toHaveLength(0); // nothing worked yet: no heartbeat ping
  });

  it('gets a pool alert to the phone within a minute while the relay refuses the password, and says why mail failed', async () => {
    const phone = await postroom.api<{ id: string }>('POST', '/api/v1/channels', { type: 'ntfy', name: 'Ops phone', url: `${http.url}/phone`, topic: 'nas-7' });
    expect(phone.status, JSON.stringify(phone.body)).toBe(201);
    const rule = await postroom.api('POST', '/api/v1/rules', { name: 'Pool alerts when mail fails', match: { subject: '^pool', severity: 'warning' }, channels: [phone.body.id], when: 'undelivered', afterMinutes: 0 });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
    const started = Date.now();
    const info = await client.sendMail({ from: 'zed@nas.example.com', to: 'ops@example.com', subject: 'pool tank DEGRADED', text: 'sdb faulted', headers: { 'X-Priority': '1 (Highest)' } });
    client.close();
    const id = /queued as ([0-9A-Z]{17})/.exec(info.response)![1]!;
    const posted = await postroom.until(async () => http.received.find((r) => r.path === '/phone/'), 'the alert on the phone', 60_000);
    expect(posted.at - started).toBeLessThan(60_000);
    expect(JSON.parse(posted.body)).toMatchObject({ topic: 'nas-7', title: 'pool tank DEGRADED', priority: 5 });
    const story = await postroom.until(async () => {
      const lines = await mailLog(postroom, `queueId=${id}`);
      return lines.some((l) => l.event === 'sent' && l.relay === 'Ops phone') ? lines : undefined;
    }, 'the channel delivery in the story');
    expect(story.find((l) => l.event === 'deferred' && l.to === 'ops@example.com')?.reply).toMatch(/535/);
    expect(sink.messages).toHaveLength(0);
  });

  it('probes again at once when the password is typed again, and pings the dead man’s switch once it works', async () => {
    expect((await postroom.api('PUT', '/api/v1/settings', { password: 'right-password' })).status).toBe(200);
    await postroom.until(async () => (await primaryHealth()).status === 'healthy', 'the probe to log in');
    expect(sink.messages).toHaveLength(0);
    const ping = await postroom.until(async () => http.received.find((r) => r.path === '/ping/check-uuid'), 'the heartbeat ping');
    expect(ping.method).toBe('GET');
    expect((await events(postroom, 'level=info')).some((e) => /^Relay 127\.0\.0\.1:\d+ is working again/.test(e.message))).toBe(true);
  });

  it('raises the queue-age alarm once, tells the undelivered rules’ channel once, and ends it when mail gets through', async () => {
    const channel = await postroom.api<{ id: string }>('POST', '/api/v1/channels', { type: 'ntfy', name: 'On-call phone', url: `${http.url}/ntfy`, topic: 'oncall' });
    expect(channel.status, JSON.stringify(channel.body)).toBe(201);
    const rule = await postroom.api('POST', '/api/v1/rules', { name: 'Only when mail fails for long', match: { subject: '^never$' }, channels: [channel.body.id], when: 'undelivered', afterMinutes: 600 });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);

    await sink.stop();
    const id = await submitSmtp(postroom, { from: 'zed@nas.example.com', to: 'ops@example.com', subject: 'pool tank DEGRADED', text: 'sdb faulted' });
    await untilState(postroom, id, 'deferred');
    // Two hours old, as if the relay had been down that long (the alarm is at 60 minutes by default).
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`UPDATE message SET created_at = now() - interval '2 hours' WHERE id = $1`, [id]);
    } finally {
      await client.end();
    }
    const raised = await postroom.until(async () => (await events(postroom, 'level=warning')).find((e) => e.details.kind === 'queue-age'), 'the alarm');
    expect(raised.message).toMatch(new RegExp(`^Mail is not getting through: message ${id} \\(pool tank DEGRADED\\) has waited 1[12]\\d min`));
    const toPhone = await postroom.until(async () => {
      const posts = http.received.filter((r) => r.path === '/ntfy/');
      return posts.length ? posts : undefined;
    }, 'the alarm notice');
    expect(toPhone).toHaveLength(1);
    expect(JSON.parse(toPhone[0]!.body)).toMatchObject({ topic: 'oncall', title: expect.stringContaining('mail is not getting through'), priority: 5 });

    const web = await new WebSession(postroom).login();
    expect((await web.request('GET', '/')).text).toContain('Mail is not getting through.');

    // Several looks later: still one alarm, one notice.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await events(postroom, 'level=warning')).filter((e) => e.details.kind === 'queue-age')).toHaveLength(1);
    expect(http.received.filter((r) => r.path === '/ntfy/')).toHaveLength(1);
    const metrics = await (await fetch(`${postroom.baseUrl}/metrics`, { headers: { authorization: `Bearer ${postroom.token}` } })).text();
    expect(Number(/^postroom_queue_oldest_age_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(7000);

    await sink.start();
    expect((await postroom.api('POST', '/api/v1/queue/flush')).status).toBe(200);
    await postroom.until(async () => (await mailLog(postroom, `queueId=${id}&event=sent`)).length === 1, 'the mail delivered');
    const ended = await postroom.until(async () => (await events(postroom, 'level=info')).find((e) => e.details.kind === 'queue-age'), 'the alarm to end');
    expect(ended.message).toMatch(/^Mail is getting through again/);
    expect((await web.request('GET', '/')).text).not.toContain('Mail is not getting through.');
  }, 60_000);
});
