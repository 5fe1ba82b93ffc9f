import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDomain } from '../../src/cli/sendmail.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, ROOT, freePort } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { events, mailLog } from './api.js';

const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

/**
 * `postroom sendmail` through the real app: the message goes to the SMTP listener, into the
 * queue, and out to a sink standing in for the relay. Also the non-delivery notice a bounce
 * produces, as the sender's relay would receive it.
 */
describe('postroom sendmail (drop-in /usr/sbin/sendmail) and non-delivery notices', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let linkDir = '';
  const sink = new SmtpSink({
    starttls: false,
    rcptReply: (a) => (a.startsWith('nobody@') ? { code: 550, message: '5.1.1 <nobody@example.com>: Recipient address rejected: User unknown' } : undefined),
  });
  const domain = localDomain();

  const run = (argv: string[], input: string, env: Record<string, string> = {}, executable = CLI) => {
    const r = spawnSync(process.execPath, [executable, ...argv], {
      env: { PATH: process.env.PATH ?? '', SMTP_LISTEN_PORT: String(postroom.smtpPort), ...env },
      input,
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const sendmail = (argv: string[], input: string, env?: Record<string, string>) => run(['sendmail', ...argv], input, env);

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    const r = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', fromAddress: 'nas@example.com', adminAddress: 'admin@example.com' });
    expect(r.status).toBe(200);
    linkDir = await mkdtemp(path.join(os.tmpdir(), 'postroom-sendmail-'));
    await symlink(CLI, path.join(linkDir, 'sendmail'));
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
    if (linkDir) await rm(linkDir, { recursive: true, force: true });
  });

  it('cron-style: -t with headers only (no body), -f root, -FCronDaemon and the flags cron passes; Bcc removed', async () => {
    const before = sink.messages.length;
    const r = sendmail(['-FCronDaemon', '-i', '-B8BITMIME', '-oem', '-oi', '-t', '-f', 'root'], 'To: ops@example.com\nBcc: hidden@example.com\nSubject: Cron <root@nas> /usr/local/bin/backup\n');
    expect(r, r.err).toMatchObject({ code: 0, out: '' });
    await sink.waitFor(before + 1);
    const got = sink.messages[before]!;
    expect(got.from).toBe(`root@${domain}`);
    expect(got.to.sort()).toEqual(['hidden@example.com', 'ops@example.com']);
    const text = got.data.toString();
    expect(text).toContain('Subject: Cron <root@nas> /usr/local/bin/backup');
    expect(text).toContain(`From: CronDaemon <root@${domain}>`);
    expect(text).not.toMatch(/hidden@example\.com/);
    expect(text).not.toMatch(/^Bcc:/im);
    const parsed = await simpleParser(got.data);
    expect(parsed.text ?? '').toBe('');
  });

  it('-f sets the envelope sender; recipients as arguments; without -i a lone dot ends the message, with -i it does not', async () => {
    const before = sink.messages.length;
    const a = sendmail(['-f', 'backup@nas.example.com', 'a@example.com,b@example.com', 'c@example.com'], 'Subject: job 7\n\nline one\n.\nnot part of the message\n');
    expect(a.code, a.err).toBe(0);
    const b = sendmail(['-i', '-fbackup@nas.example.com', 'd@example.com'], 'Subject: job 8\n\nline one\n.\nstill the message\n');
    expect(b.code, b.err).toBe(0);
    await sink.waitFor(before + 2);
    const [first, second] = [sink.messages.find((m) => m.to.includes('c@example.com'))!, sink.messages.find((m) => m.to.includes('d@example.com'))!];
    expect(first.from).toBe('backup@nas.example.com');
    expect(first.to.sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(first.data.toString()).toContain('line one');
    expect(first.data.toString()).not.toContain('not part of the message');
    expect(second.data.toString()).toContain('still the message');
  });

  it('works when invoked as "sendmail" (a symlink to the postroom command)', async () => {
    const before = sink.messages.length;
    const r = run(['-oi', 'linked@example.com'], 'Subject: via symlink\n\nhello\n', {}, path.join(linkDir, 'sendmail'));
    expect(r.code, r.err).toBe(0);
    await sink.waitFor(before + 1);
    expect(sink.messages.at(-1)!.to).toEqual(['linked@example.com']);
  });

  it('exits 75 (EX_TEMPFAIL) when Postroom is not listening, and 64 (EX_USAGE) without recipients or with a bad option', async () => {
    const down = sendmail(['-t'], 'To: ops@example.com\nSubject: x\n', { SMTP_LISTEN_PORT: String(await freePort()) });
    expect(down.code).toBe(75);
    expect(down.err).toMatch(/cannot submit to Postroom .* try again later: .*ECONNREFUSED/);
    expect(sendmail(['-t'], 'Subject: nobody\n\nbody\n').code).toBe(64);
    expect(sendmail([], 'Subject: nobody\n\nbody\n').code).toBe(64);
    expect(sendmail(['-bp'], '').code).toBe(64);
  });

  it('a bounce yields an RFC 3464 DSN to the envelope sender, sent with an empty envelope sender, and readable by mailparser', async () => {
    const before = sink.messages.length;
    const r = sendmail(['-f', 'backup@nas.example.com', 'ok@example.com', 'nobody@example.com'], 'Subject: RAID degraded\n\n/dev/md0 lost a disk\n');
    expect(r.code, r.err).toBe(0);
    // the message to ok@ and then the notice to the sender
    await sink.waitFor(before + 2);
    const dsn = sink.messages.slice(before).find((m) => m.from === '')!;
    expect(dsn, JSON.stringify(sink.messages.slice(before).map((m) => [m.from, m.to]))).toBeDefined();
    expect(dsn.to).toEqual(['backup@nas.example.com']);
    const mail = await simpleParser(dsn.data);
    const type = mail.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(type).toMatchObject({ value: 'multipart/report', params: { 'report-type': 'delivery-status' } });
    expect(mail.subject).toBe('Undelivered Mail Returned to Sender: RAID degraded');
    expect(mail.text).toMatch(/^Final-Recipient: rfc822; nobody@example\.com$/m);
    expect(mail.text).toMatch(/^Action: failed$/m);
    expect(mail.text).toMatch(/^Status: 5\.1\.1$/m);
    expect(mail.text).toMatch(/^Remote-MTA: dns; 127\.0\.0\.1$/m);
    expect(mail.text).toMatch(/^Diagnostic-Code: smtp; 550 5\.1\.1 <nobody@example\.com>: Recipient address rejected: User unknown$/m);
    expect(mail.text).not.toContain('Final-Recipient: rfc822; ok@example.com');
    expect(mail.attachments.find((a) => a.contentType === 'text/rfc822-headers')!.content.toString()).toContain('Subject: RAID degraded');

    const ev = await events(postroom, 'source=delivery&level=info');
    expect(ev.some((e) => /^Non-delivery notice for message \w+ sent to backup@nas\.example\.com as \w+$/.test(e.message))).toBe(true);
    // the notice itself is in the mail log as sent, from <>
    const sent = await mailLog(postroom, 'event=sent&address=backup@nas.example.com');
    expect(sent.some((e) => e.from === '')).toBe(true);
  });
});
