import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';

interface MailLogPage {
  items: { event: string; to: string; queueId: string; reply: string | null; relay: string | null }[];
  nextCursor: string | null;
}

describe('SMTP in → queue → relay out', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ auth: { user: 'relayuser', pass: 'relay-secret' } });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    const res = await postroom.api('PUT', '/api/v1/settings', {
      relayHost: '127.0.0.1',
      relayPort: sink.port,
      security: 'starttls',
      tlsVerify: false,
      authEnabled: true,
      username: 'relayuser',
      password: 'relay-secret',
      fromAddress: 'nas@example.com',
    });
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('delivers a message submitted over SMTP through the relay with STARTTLS and AUTH, and logs it as sent', async () => {
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
    const info = await client.sendMail({ from: 'cron@nas.local', to: 'ops@example.com', subject: 'RAID degraded', text: 'md0 lost a disk' });
    expect(info.response).toMatch(/^250 .*queued as [0-9A-Z]{17}/);
    const queueId = /queued as ([0-9A-Z]{17})/.exec(info.response)?.[1];

    await sink.waitFor(1);
    const got = sink.messages[0]!;
    expect(got.to).toEqual(['ops@example.com']);
    expect(got.user).toBe('relayuser');
    const text = got.data.toString();
    expect(text).toMatch(/^Received: from .* by .* \(Postroom\) with ESMTP\s+id\s+[0-9A-Z]{17}/s);
    expect(text).toContain('Subject: RAID degraded');

    const log = await postroom.until(async () => {
      const r = await postroom.api<MailLogPage>('GET', `/api/v1/mail-log?queueId=${queueId}`);
      return r.body.items.some((i) => i.event === 'sent') ? r.body : undefined;
    }, 'the sent entry');
    expect(log.items.map((i) => i.event).sort()).toEqual(['received', 'sent']);
    expect(log.items.find((i) => i.event === 'sent')?.relay).toBe(`127.0.0.1:${sink.port}`);
  });

  it('delivers a mixed-case recipient once and clears it from the queue (transports may lower-case domains)', async () => {
    const before = sink.messages.length;
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
    const info = await client.sendMail({ from: 'cron@nas.local', to: 'Ops@Example.COM', subject: 'Case', text: 'x' });
    const queueId = /queued as ([0-9A-Z]{17})/.exec(info.response)![1]!;
    await sink.waitFor(before + 1);
    await postroom.until(async () => (await postroom.api('GET', `/api/v1/queue/${queueId}`)).status === 404, 'the message to leave the queue');
    const log = await postroom.api<MailLogPage>('GET', `/api/v1/mail-log?queueId=${queueId}&event=sent`);
    expect(log.body.items.map((i) => i.to.toLowerCase())).toEqual(['ops@example.com']);
    expect(sink.messages.length).toBe(before + 1);
  });
});
