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
    expect(text).toMatch(/^Received: from .* by .* \(Postroom\)\s+with\s+ESMTP\s+id\s+[0-9A-Z]{17}/s);
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

describe('a big message (SMTP in → queue → relay out), stored and read back in slices', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });
  // 3 MiB of lines, some starting with dots (dot-stuffed on both wires), past STREAMED_BODY_BYTES.
  const body = Array.from({ length: 40_000 }, (_, i) => (i % 7 === 0 ? `.line ${i} ` : `line ${i} `).padEnd(78, 'x')).join('\r\n') + '\r\n';
  const raw = (subject: string) => Buffer.from(`From: backup@nas.local\r\nTo: ops@example.com\r\nSubject: ${subject}\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${subject}@nas.local>\r\n\r\n${body}`);
  /** What the relay got after our Received header: the message exactly as it was submitted. */
  const afterReceived = (data: Buffer) => data.subarray(data.indexOf('\r\nFrom: ') + 2);
  const submit = async (subject: string) => {
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
    const info = await client.sendMail({ envelope: { from: 'backup@nas.local', to: ['ops@example.com'] }, raw: raw(subject) });
    return /queued as ([0-9A-Z]{17})/.exec(info.response)![1]!;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    expect((await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', tlsVerify: false, authEnabled: false })).status).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('delivers it byte for byte straight from intake', async () => {
    await submit('big-1');
    await sink.waitFor(1, 30_000);
    expect(afterReceived(sink.messages[0]!.data).equals(raw('big-1'))).toBe(true);
    const [row] = await postroom.until(async () => {
      const rows = (await postroom.api<MailLogPage>('GET', `/api/v1/mail-log?event=sent`)).body.items;
      return rows.length ? rows : undefined;
    }, 'the sent entry');
    expect(row!.to).toBe('ops@example.com');
  });

  it('delivers it byte for byte after a retry, read back from the database', async () => {
    await sink.stop();
    const id = await submit('big-2');
    await postroom.until(async () => (await postroom.api<{ state: string }>('GET', `/api/v1/queue/${id}`)).body.state === 'deferred', 'the message to be deferred');
    await sink.start();
    expect((await postroom.api<{ count: number }>('POST', '/api/v1/queue/flush')).body.count).toBe(1);
    await sink.waitFor(2, 30_000);
    expect(afterReceived(sink.messages[1]!.data).equals(raw('big-2'))).toBe(true);
    await postroom.until(async () => (await postroom.api('GET', `/api/v1/queue/${id}`)).status === 404, 'the message to leave the queue');
  });
});
