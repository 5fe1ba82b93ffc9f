import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { events, mailLog, queue, queueEntry, submitSmtp, untilState } from './api.js';

/**
 * Failures on the way out, on one Postroom: the relay is down, its password is wrong, it refuses
 * some recipients. The tests run in order; each points the relay at its own sink.
 */
describe('delivery failures: deferral, retry by flush, bounces', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const downSink = new SmtpSink();
  const authSink = new SmtpSink({ auth: { user: 'relayuser', pass: 'the-right-password' } });
  const pickySink = new SmtpSink({
    starttls: false,
    rcptReply: (address) => {
      if (address.startsWith('nobody@')) return { code: 550, message: '5.1.1 <nobody@example.com>: Recipient address rejected: User unknown' };
      if (address.startsWith('busy@')) return { code: 451, message: '4.2.1 Mailbox busy, try again later' };
      return undefined;
    },
  });

  const relayTo = async (settings: Record<string, unknown>) => {
    const r = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', tlsVerify: false, fromAddress: 'nas@example.com', ...settings });
    expect(r.status).toBe(200);
    return r;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await Promise.all([downSink.start(), authSink.start(), pickySink.start()]);
    await downSink.stop(); // keeps its port: the relay is down until it starts again
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await Promise.all([downSink.stop(), authSink.stop(), pickySink.stop()]);
    await db?.drop();
  });

  it('defers a message while the relay is down, with the reason, and delivers it on flush once the relay is back', async () => {
    await relayTo({ relayPort: downSink.port, security: 'starttls', authEnabled: false });
    const id = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'Disk 3 failing', text: 'SMART: reallocated sectors' });

    const deferred = await untilState(postroom, id, 'deferred');
    expect(deferred.to).toEqual(['ops@example.com']);
    expect(deferred.attempts).toBe(1);
    expect(deferred.lastError).toMatch(/ECONNREFUSED/);
    // The next attempt follows the back-off (5 minutes), not at once.
    expect(new Date(deferred.nextAttemptAt!).getTime()).toBeGreaterThan(Date.now() + 60_000);

    const log = await mailLog(postroom, `queueId=${id}`);
    const deferredLog = log.filter((e) => e.event === 'deferred');
    expect(deferredLog).toHaveLength(1);
    expect(deferredLog[0]).toMatchObject({ to: 'ops@example.com', relay: `127.0.0.1:${downSink.port}`, attempt: 1 });
    expect(deferredLog[0]!.reply).toMatch(/ECONNREFUSED/);
    expect(log.some((e) => e.event === 'bounced' || e.event === 'sent')).toBe(false);

    const errors = await events(postroom, 'source=delivery&level=error');
    const failure = errors.find((e) => e.details.queueId === id);
    expect(failure, JSON.stringify(errors)).toBeDefined();
    expect(failure!.message).toContain(`Relay 127.0.0.1:${downSink.port} connection failed`);
    expect(failure!.details).toMatchObject({ kind: 'connection', relay: `127.0.0.1:${downSink.port}` });

    // Nothing happens by itself before the back-off ends: the relay comes back, an operator flushes.
    await downSink.start();
    const flushed = await postroom.api<{ count: number }>('POST', '/api/v1/queue/flush');
    expect(flushed).toEqual({ status: 200, body: { count: 1 } });

    await downSink.waitFor(1);
    expect(downSink.messages[0]!.to).toEqual(['ops@example.com']);
    expect(downSink.messages[0]!.data.toString()).toContain(id);
    const sent = await postroom.until(async () => {
      const entries = await mailLog(postroom, `queueId=${id}&event=sent`);
      return entries.length ? entries : undefined;
    }, 'the sent entry');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: 'ops@example.com', relay: `127.0.0.1:${downSink.port}`, attempt: 2 });
    expect(await queueEntry(postroom, id)).toBeUndefined();
    expect(await queue(postroom)).toEqual([]);
  });

  it('defers (never bounces) on a wrong relay password, logs an authentication error, and never shows the password', async () => {
    const password = 'wrong-Pa55word-' + Math.random().toString(36).slice(2);
    const put = await relayTo({ relayPort: authSink.port, security: 'starttls', authEnabled: true, username: 'relayuser', password });
    expect(JSON.stringify(put.body)).not.toContain(password);
    expect(put.body).toMatchObject({ authEnabled: true, username: 'relayuser', passwordSet: true });
    expect(put.body).not.toHaveProperty('password');

    const id = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'Backup done', text: 'ok' });
    const deferred = await untilState(postroom, id, 'deferred');
    expect(deferred.lastError).toMatch(/535|authentication|invalid login/i);
    expect(authSink.authAttempts).toEqual([{ user: 'relayuser', ok: false }]);
    expect(authSink.messages).toHaveLength(0);

    const log = await mailLog(postroom, `queueId=${id}`);
    expect(log.map((e) => e.event).sort()).toEqual(['deferred', 'received']);

    const errors = await events(postroom, 'source=delivery&level=error');
    const authError = errors.find((e) => e.details.queueId === id);
    expect(authError, JSON.stringify(errors)).toBeDefined();
    expect(authError!.message).toMatch(/authentication failed/);
    expect(authError!.details.kind).toBe('auth');

    const settings = await postroom.api<Record<string, unknown>>('GET', '/api/v1/settings');
    expect(settings.status).toBe(200);
    expect(settings.body.passwordSet).toBe(true);
    expect(settings.body).not.toHaveProperty('password');
    expect(settings.body).not.toHaveProperty('passwordSealed');

    // The clear password is in no answer of the API.
    for (const url of ['/api/v1/settings', '/api/v1/queue', `/api/v1/queue/${id}`, '/api/v1/mail-log?limit=500', '/api/v1/events?limit=500', '/api/v1/queue/counts']) {
      const r = await postroom.api('GET', url);
      expect(r.status, url).toBe(200);
      expect(JSON.stringify(r.body), url).not.toContain(password);
    }
    expect(postroom.output).not.toContain(password);

    const deleted = await postroom.api<{ count: number }>('DELETE', `/api/v1/queue/${id}`);
    expect(deleted).toEqual({ status: 200, body: { count: 1 } });
    expect(await queueEntry(postroom, id)).toBeUndefined();
  });

  it('bounces the one recipient of three that the relay refuses with 550, sends the other two and removes the message', async () => {
    await relayTo({ relayPort: pickySink.port, security: 'none', authEnabled: false });
    const id = await submitSmtp(postroom, {
      from: 'cron@nas.local',
      to: ['first@example.com', 'nobody@example.com', 'second@example.com'],
      subject: 'UPS on battery',
      text: 'mains lost',
    });

    const log = await postroom.until(async () => {
      const entries = await mailLog(postroom, `queueId=${id}`);
      return entries.filter((e) => e.event !== 'received').length >= 3 ? entries : undefined;
    }, 'the outcome of every recipient');
    const outcome = Object.fromEntries(log.filter((e) => e.event !== 'received').map((e) => [e.to, e.event]));
    expect(outcome).toEqual({ 'first@example.com': 'sent', 'second@example.com': 'sent', 'nobody@example.com': 'bounced' });
    expect(log.find((e) => e.event === 'bounced')!.reply).toMatch(/^550\b.*User unknown/);

    await pickySink.waitFor(1);
    expect(pickySink.messages[0]!.to).toEqual(['first@example.com', 'second@example.com']);
    expect(pickySink.messages[0]!.data.toString()).toContain('Subject: UPS on battery');
    expect(await queueEntry(postroom, id)).toBeUndefined();

    const warnings = await events(postroom, 'source=delivery&level=warning');
    expect(warnings.some((e) => e.message.includes(`Bounced: message ${id} to nobody@example.com`))).toBe(true);

    // The sender gets a non-delivery notice (RFC 3464), sent with an empty envelope sender.
    const notice = await postroom.until(async () => pickySink.messages.find((m) => m.from === '' && m.to.includes('cron@nas.local')), 'the non-delivery notice');
    expect(notice.data.toString()).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/m);
    expect(notice.data.toString()).toMatch(/^Status: 5\.1\.1\r?$/m);
  });

  it('defers only the recipient the relay answers 4xx for; the message stays queued with just that recipient', async () => {
    const id = await submitSmtp(postroom, { from: 'cron@nas.local', to: ['third@example.com', 'busy@example.com'], subject: 'Scrub finished', text: '0 errors' });

    const entry = await untilState(postroom, id, 'deferred');
    expect(entry.to).toEqual(['busy@example.com']);
    expect(entry.lastError).toMatch(/^451\b.*Mailbox busy/);
    expect(entry.attempts).toBe(1);

    const log = await mailLog(postroom, `queueId=${id}`);
    const outcome = Object.fromEntries(log.filter((e) => e.event !== 'received').map((e) => [e.to, e.event]));
    expect(outcome).toEqual({ 'third@example.com': 'sent', 'busy@example.com': 'deferred' });

    // (the non-delivery notice for nobody@ of the test before also passes through this relay)
    const third = await postroom.until(async () => pickySink.messages.find((m) => m.to.includes('third@example.com')), 'the message to third@');
    expect(third.to).toEqual(['third@example.com']);
    expect(await queue(postroom)).toEqual([expect.objectContaining({ id, state: 'deferred', to: ['busy@example.com'] })]);
  });
});
