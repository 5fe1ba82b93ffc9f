import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { CLI, PostroomProcess, ROOT } from '../helpers/postroom-process.js';
import { SmtpSink, SunkMessage } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { events, mailLog, queue } from './api.js';
import { RawSmtp } from './raw-smtp.js';

const DROP_IN = path.join(ROOT, 'bin', 'postroom-sendmail');
const HOST = os.hostname();

/** The drop-in (or another way to sendmail) with the environment cron gives: almost nothing but where Postroom keeps its data. */
function sendmail(postroom: PostroomProcess, args: string[], input: string | Buffer, command: string[] = [DROP_IN]) {
  const [file, ...pre] = command;
  const r = spawnSync(file!, [...pre, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', POSTROOM_CONFIG: '/dev/null', DATA_DIR: postroom.dataDir }, input, timeout: 20_000 });
  return { code: r.status, err: r.stderr.toString() };
}

const withSubject = (sink: SmtpSink, subject: string): SunkMessage[] => sink.messages.filter((m) => m.data.toString('latin1').includes(`Subject: ${subject}\r`) || m.data.toString('latin1').includes(`Subject: ${subject}\n`));

async function delivered(postroom: PostroomProcess, sink: SmtpSink, subject: string, count = 1): Promise<SunkMessage[]> {
  return postroom.until(async () => {
    const got = withSubject(sink, subject);
    return got.length >= count ? got : undefined;
  }, `${count} message(s) "${subject}" at the relay`);
}

/**
 * The sendmail drop-in through the real app: the drop-in keeps the message in the maildrop,
 * Postroom picks it up, queues it and delivers it to a sink standing in for the relay. Local
 * names (root, postmaster, a user, x@localhost, x@this host) go to their alias or the admin.
 */
describe('sendmail drop-in → maildrop → Postroom → relay', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let linkDir = '';
  const sink = new SmtpSink({
    starttls: false,
    rcptReply: (a) => (a.startsWith('nobody@') ? { code: 550, message: '5.1.1 <nobody@example.com>: Recipient address rejected: User unknown' } : undefined),
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    const r = await postroom.api('PUT', '/api/v1/settings', {
      relayHost: '127.0.0.1',
      relayPort: sink.port,
      security: 'none',
      fromName: 'NAS',
      fromAddress: 'nas@example.com',
      adminAddress: 'admin@example.com',
      aliases: { backup: ['ops@example.com', 'oncall@example.com'] },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    linkDir = mkdtempSync(path.join(os.tmpdir(), 'postroom-sendmail-'));
    symlinkSync(DROP_IN, path.join(linkDir, 'sendmail'));
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
    if (linkDir) rmSync(linkDir, { recursive: true, force: true });
  });

  it("cron's call: -t with To and Bcc (Bcc removed, delivered to both), -f root, -F: the sender becomes the From address", async () => {
    const r = sendmail(postroom, ['-FCronDaemon', '-i', '-B8BITMIME', '-oem', '-oi', '-t', '-f', 'root'], 'To: ops@example.com\nBcc: hidden@example.com\nSubject: Cron <root@nas> /usr/local/bin/backup\n');
    expect(r).toEqual({ code: 0, err: '' });
    const [got] = await delivered(postroom, sink, 'Cron <root@nas> /usr/local/bin/backup');
    expect(got!.from).toBe('nas@example.com');
    expect(got!.to.sort()).toEqual(['hidden@example.com', 'ops@example.com']);
    const text = got!.data.toString();
    expect(text).toContain('From: CronDaemon <nas@example.com>');
    expect(text).not.toMatch(/hidden@example\.com/);
    expect(text).toMatch(/^Received: by \S+ \(Postroom, from userid \d+\) id [0-9A-Z]{17}/m);
    expect((await simpleParser(got!.data)).text ?? '').toBe('');
  });

  it('recipients as arguments (a comma list too); without -i a lone dot ends the message, with -i it does not; 8-bit bytes and a missing final newline kept', async () => {
    expect(sendmail(postroom, ['-f', 'backup@nas.example.com', 'a@example.com,b@example.com', 'c@example.com'], 'Subject: job 7\n\nline one\n.\nnot part of the message\n').code).toBe(0);
    const body = Buffer.from('Subject: job 8\nContent-Type: text/plain; charset=iso-8859-1\n\ncaf\xe9\n.\nstill the message, no newline', 'latin1');
    expect(sendmail(postroom, ['-i', '-fbackup@nas.example.com', 'd@example.com'], body).code).toBe(0);
    const [first] = await delivered(postroom, sink, 'job 7');
    const [second] = await delivered(postroom, sink, 'job 8');
    expect(first!.from).toBe('backup@nas.example.com');
    expect(first!.to.sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(first!.data.toString()).toContain('line one');
    expect(first!.data.toString()).not.toContain('not part of the message');
    // The 8-bit byte and the lone dot as they were; on the wire SMTP's CRLF ends every line, the last one too.
    expect(second!.data.toString('latin1').endsWith('\r\n\r\ncaf\xe9\r\n.\r\nstill the message, no newline\r\n')).toBe(true);
  });

  it('works as a symlink named sendmail, as `postroom sendmail`, and as the postroom command linked as sendmail', async () => {
    symlinkSync(CLI, path.join(linkDir, 'sendmail.js'));
    expect(sendmail(postroom, ['-oi', 'linked@example.com'], 'Subject: via symlink\n\nhello\n', [path.join(linkDir, 'sendmail')]).code).toBe(0);
    expect(sendmail(postroom, ['sendmail', '-oi', 'cli@example.com'], 'Subject: via postroom sendmail\n\nhello\n', [process.execPath, CLI]).code).toBe(0);
    expect(sendmail(postroom, ['-oi', 'cli-link@example.com'], 'Subject: via the CLI linked as sendmail\n\nhello\n', [process.execPath, path.join(linkDir, 'sendmail.js')]).code).toBe(0);
    expect((await delivered(postroom, sink, 'via symlink'))[0]!.to).toEqual(['linked@example.com']);
    expect((await delivered(postroom, sink, 'via postroom sendmail'))[0]!.to).toEqual(['cli@example.com']);
    expect((await delivered(postroom, sink, 'via the CLI linked as sendmail'))[0]!.to).toEqual(['cli-link@example.com']);
  });

  it('speaks SMTP on stdin and stdout with -bs (through the postroom command), each message kept by the drop-in', async () => {
    const session = ['EHLO app', 'MAIL FROM:<app@nas.example.com>', 'RCPT TO:<bs@example.com>', 'DATA', 'Subject: via -bs', '', '..dot-stuffed line', '.', 'QUIT', ''].join('\r\n');
    const r = spawnSync(DROP_IN, ['-bs'], { env: { PATH: process.env.PATH ?? '', POSTROOM_CONFIG: '/dev/null', DATA_DIR: postroom.dataDir }, input: session, timeout: 20_000 });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(r.stdout.toString()).toMatch(/^220 .*\r\n250-.*[\s\S]*250 2\.0\.0 Ok: kept for delivery\r\n221 /);
    const [got] = await delivered(postroom, sink, 'via -bs');
    expect(got!.from).toBe('app@nas.example.com');
    expect(got!.data.toString()).toContain('\r\n.dot-stuffed line');
  });

  it('sends root, postmaster, a bare user name, x@localhost and x@<this host> to the admin, an aliased name to its addresses; the mail log shows both', async () => {
    const r = sendmail(postroom, ['root', 'postmaster', 'jane', 'smartd@localhost', `mdadm@${HOST}`, 'backup'], 'Subject: local names\n\nSMART error on /dev/sda\n');
    expect(r.code, r.err).toBe(0);
    const got = await delivered(postroom, sink, 'local names');
    expect(got.flatMap((m) => m.to).sort()).toEqual(['admin@example.com', 'oncall@example.com', 'ops@example.com']);
    const received = (await mailLog(postroom, 'event=received&address=admin@example.com')).find((e) => e.subject === 'local names')!;
    expect(received.to).toBe('admin@example.com, ops@example.com, oncall@example.com');
    expect(received.originalTo).toBe(`root, postmaster, jane, smartd@localhost, mdadm@${HOST}, backup`);
    const sent = await postroom.until(async () => {
      const lines = (await mailLog(postroom, `event=sent&queueId=${received.queueId}`)).filter((e) => e.queueId === received.queueId);
      return lines.length === 3 ? lines : undefined;
    }, 'three sent lines');
    expect(Object.fromEntries(sent.map((e) => [e.to, e.originalTo]))).toEqual({
      'admin@example.com': `root, postmaster, jane, smartd@localhost, mdadm@${HOST}`,
      'ops@example.com': 'backup',
      'oncall@example.com': 'backup',
    });
  });

  it('validates aliases in the API: 400 with the reason, nothing saved', async () => {
    const bad = await postroom.api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', { aliases: { 'Not A Name': ['x@example.com'] }, fromName: 'changed' });
    expect(bad.status).toBe(400);
    expect(bad.body.fields.aliases).toMatch(/"Not A Name" is not a local name/);
    const local = await postroom.api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', { aliases: { root: ['admin@localhost'] } });
    expect(local.body.fields.aliases).toMatch(/"root": "admin@localhost" is this machine/);
    const empty = await postroom.api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', { aliases: { root: [] } });
    expect(empty.body.fields.aliases).toMatch(/"root" needs at least one address/);
    const now = await postroom.api<{ fromName: string; aliases: Record<string, string[]> }>('GET', '/api/v1/settings');
    expect(now.body).toMatchObject({ fromName: 'NAS', aliases: { backup: ['ops@example.com', 'oncall@example.com'] } });
  });

  it('takes a bare local name over SMTP (MAIL FROM:<root>, RCPT TO:<root>) and in the API (to: "root"); a name such as constructor is a local name like any other', async () => {
    const s = await RawSmtp.connect(postroom.smtpPort);
    try {
      expect((await s.read()).code).toBe(220);
      expect((await s.command('EHLO app')).code).toBe(250);
      expect((await s.command('MAIL FROM:<root>')).code).toBe(250);
      expect((await s.command('RCPT TO:<root>')).code).toBe(250);
      expect((await s.command('RCPT TO:<constructor@localhost>')).code).toBe(250);
      expect((await s.command(`RCPT TO:<smartd@${HOST}.>`)).code).toBe(250);
      expect((await s.command('RCPT TO:<ops@nodot>')).code).toBe(553);
      expect((await s.command('DATA')).code).toBe(354);
      expect((await s.data('Subject: bare names over SMTP\r\n\r\nhello\r\n')).code).toBe(250);
      await s.command('QUIT');
    } finally {
      s.close();
    }
    const api = await postroom.api('POST', '/api/v1/messages', { to: ['root', 'api@example.com'], subject: 'bare name over the API', text: 'hi' });
    expect(api.status, JSON.stringify(api.body)).toBe(202);
    const elsewhere = await postroom.api<{ fields: Record<string, string> }>('POST', '/api/v1/messages', { to: 'ops@nodot', subject: 'x', text: 'x' });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.fields.to).toMatch(/ops@nodot is neither a full address/);
    expect(sendmail(postroom, ['constructor', '__proto__', 'toString'], 'Subject: object names\n\nx\n')).toEqual({ code: 0, err: '' });

    const [smtp] = await delivered(postroom, sink, 'bare names over SMTP');
    expect(smtp!.from).toBe('nas@example.com');
    expect(smtp!.to).toEqual(['admin@example.com']);
    expect((await delivered(postroom, sink, 'bare name over the API'))[0]!.to.sort()).toEqual(['admin@example.com', 'api@example.com']);
    expect((await delivered(postroom, sink, 'object names'))[0]!.to).toEqual(['admin@example.com']);
  });

  it('refuses an admin address or an alias target at this machine (400 with the reason, nothing saved); the same aliases in another order are no change', async () => {
    for (const [input, field] of [
      [{ adminAddress: 'root@localhost' }, 'adminAddress'],
      [{ adminAddress: 'root@[127.0.0.1]' }, 'adminAddress'],
      [{ aliases: { backup: ['ops@localhost.localdomain'] } }, 'aliases'],
      [{ aliases: JSON.parse('{"__proto__": ["ops@example.com"]}') as unknown }, 'aliases'],
    ] as const) {
      const r = await postroom.api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', input);
      expect(r.status, JSON.stringify(input)).toBe(400);
      expect(Object.keys(r.body.fields), JSON.stringify(input)).toEqual([field]);
      expect(r.body.fields[field]).toMatch(/is this machine|is not a local name/);
    }
    const now = await postroom.api<{ adminAddress: string; aliases: Record<string, string[]> }>('GET', '/api/v1/settings');
    expect(now.body).toMatchObject({ adminAddress: 'admin@example.com', aliases: { backup: ['ops@example.com', 'oncall@example.com'] } });

    const two = { backup: ['ops@example.com', 'oncall@example.com'], zeta: ['z@example.com'] };
    expect((await postroom.api('PUT', '/api/v1/settings', { aliases: two })).status).toBe(200);
    const changes = async () => (await events(postroom, 'source=settings')).filter((e) => /Settings changed/.test(e.message)).length;
    const before = await changes();
    expect((await postroom.api('PUT', '/api/v1/settings', { aliases: { zeta: two.zeta, backup: two.backup } })).status).toBe(200);
    expect(await changes()).toBe(before);
    expect((await postroom.api('PUT', '/api/v1/settings', { aliases: { backup: two.backup } })).status).toBe(200);
  });

  it('greets with the hostname setting as soon as it changes (no restart)', async () => {
    const greeting = async () => {
      const s = await RawSmtp.connect(postroom.smtpPort);
      try {
        return (await s.read()).text;
      } finally {
        s.close();
      }
    };
    expect((await postroom.api('PUT', '/api/v1/settings', { hostname: 'mail.nas.example.net' })).status).toBe(200);
    try {
      await postroom.until(async () => (await greeting()).startsWith('mail.nas.example.net '), 'the greeting to name the new host name');
    } finally {
      expect((await postroom.api('PUT', '/api/v1/settings', { hostname: '' })).status).toBe(200);
    }
  });

  it('a bounce yields an RFC 3464 notice; for the appliance\'s own sender it goes to the admin address', async () => {
    const r = sendmail(postroom, ['-f', 'root', 'ok@example.com', 'nobody@example.com'], 'Subject: RAID degraded\n\n/dev/md0 lost a disk\n');
    expect(r.code, r.err).toBe(0);
    const dsn = await postroom.until(async () => sink.messages.find((m) => m.from === '' && m.data.toString().includes('RAID degraded')), 'the non-delivery notice');
    expect(dsn.to).toEqual(['admin@example.com']);
    const mail = await simpleParser(dsn.data);
    expect(mail.subject).toBe('Undelivered Mail Returned to Sender: RAID degraded');
    expect(mail.text).toMatch(/^Final-Recipient: rfc822; nobody@example\.com$/m);
    expect(mail.text).toMatch(/^Diagnostic-Code: smtp; 550 5\.1\.1 <nobody@example\.com>: Recipient address rejected: User unknown$/m);
  });
});

/** Postroom stopped, crashed, or handed junk: nothing the drop-in acknowledged is lost. */
describe('maildrop while Postroom is stopped, crashes, or finds junk', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    const r = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', fromAddress: 'nas@example.com', adminAddress: 'admin@example.com' });
    expect(r.status).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('keeps mail handed over while Postroom is stopped (exit 0) and delivers it after the start, with its arrival time', { timeout: 90_000 }, async () => {
    await postroom.stop();
    const handedAt = Date.now();
    expect(sendmail(postroom, ['ops@example.com'], 'Subject: while stopped\n\nUPS on battery\n')).toEqual({ code: 0, err: '' });
    await new Promise((r) => setTimeout(r, 1500));
    const startedAt = Date.now();
    await postroom.start();
    await delivered(postroom, sink, 'while stopped');
    const received = (await mailLog(postroom, 'event=received&address=ops@example.com')).find((e) => e.subject === 'while stopped')!;
    const at = new Date(received.at).getTime();
    expect(at).toBeGreaterThanOrEqual(handedAt - 1000);
    expect(at).toBeLessThan(startedAt);
    expect(readdirSync(path.join(postroom.dataDir, 'maildrop'))).toEqual([]);
  });

  it('moves a file it cannot read as a message aside with an error event, and delivers the others', async () => {
    const junk = path.join(postroom.dataDir, 'maildrop', 'not-a-maildrop-file');
    // Written under a dot name (the pickup skips those), made complete (0640), then put in place.
    const hidden = path.join(postroom.dataDir, 'maildrop', '.not-a-maildrop-file');
    writeFileSync(hidden, 'garbage\n\nmore garbage');
    chmodSync(hidden, 0o640);
    renameSync(hidden, junk);
    expect(sendmail(postroom, ['ops@example.com'], 'Subject: after the junk\n\nfine\n').code).toBe(0);
    await delivered(postroom, sink, 'after the junk');
    const ev = await postroom.until(async () => (await events(postroom, 'source=maildrop&level=error')).find((e) => e.message.includes('not-a-maildrop-file')), 'the maildrop event');
    expect(ev.message).toMatch(/is not a maildrop file Postroom can read: it does not start with "POSTROOM-MAILDROP 1"; moved to .*maildrop\.corrupt/);
    expect(readdirSync(path.join(postroom.dataDir, 'maildrop.corrupt'))).toContain('not-a-maildrop-file');
  });

  it('skips a directory a user made in the maildrop (one warning) and delivers the files beside it', async () => {
    const dir = path.join(postroom.dataDir, 'maildrop', '0-a-directory');
    mkdirSync(dir);
    try {
      for (const n of [1, 2]) expect(sendmail(postroom, ['ops@example.com'], `Subject: beside a directory ${n}\n\nfine\n`).code).toBe(0);
      await delivered(postroom, sink, 'beside a directory 1');
      await delivered(postroom, sink, 'beside a directory 2');
      const warned = (await events(postroom, 'source=maildrop&level=warning')).filter((e) => e.message.includes('0-a-directory'));
      expect(warned).toHaveLength(1);
      expect(warned[0]!.message).toMatch(/not a regular file, not a message, and cannot be removed \(EISDIR\); it is skipped/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves a file still being written alone however old while its writer runs (a long cron job); moves one aside whose writer is gone', async () => {
    const dir = path.join(postroom.dataDir, 'maildrop');
    const writer = spawn('sleep', ['60'], { stdio: 'ignore' });
    const gone = spawnSync('true').pid;
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    const live = path.join(dir, `11111111-1111-4111-8111-111111111111.${writer.pid}`);
    const dead = path.join(dir, `22222222-2222-4222-8222-222222222222.${gone}`);
    try {
      for (const f of [live, dead]) {
        writeFileSync(f, 'POSTROOM-MAILDROP 1\nflags\nrcpt ops@example.com\n\nSubject: half-written\n', { mode: 0o600 });
        utimesSync(f, hoursAgo, hoursAgo);
      }
      expect(sendmail(postroom, ['ops@example.com'], 'Subject: beside half-written files\n\nfine\n').code).toBe(0);
      await delivered(postroom, sink, 'beside half-written files');
      const ev = await postroom.until(async () => (await events(postroom, 'source=maildrop&level=warning')).find((e) => e.message.includes(path.basename(dead))), 'the event of the abandoned file');
      expect(ev.message).toMatch(/was left half-written by a sendmail that did not finish \(never acknowledged\); moved to .*maildrop\.corrupt/);
      expect(existsSync(live)).toBe(true);
      expect((await events(postroom, 'source=maildrop')).some((e) => e.message.includes(path.basename(live)))).toBe(false);
    } finally {
      writer.kill('SIGKILL');
      rmSync(live, { force: true });
    }
  });

  it('refuses a message with a NUL byte or a header line over 998 characters (moved aside, an event, a rejected line), and a recipient no transport could send alone', async () => {
    expect(sendmail(postroom, ['ops@example.com'], Buffer.from('Subject: nul in a drop\n\nbefore\0after\n', 'latin1')).code).toBe(0);
    expect(sendmail(postroom, ['ops@example.com'], `Subject: long in a drop\nX-Long: ${'y'.repeat(1000)}\n\nbody\n`).code).toBe(0);
    expect(sendmail(postroom, ['ops@example.com', '"a<b"@example.com'], 'Subject: quoted in a drop\n\nbody\n').code).toBe(0);
    const [quoted] = await delivered(postroom, sink, 'quoted in a drop');
    expect(quoted!.to).toEqual(['ops@example.com']);

    const refused = await postroom.until(async () => {
      const e = (await events(postroom, 'source=maildrop&level=warning')).filter((x) => /refused: (message contains a NUL byte|header line 2 is longer than 998 characters)/.test(x.message));
      return e.length === 2 ? e : undefined;
    }, 'two refused maildrop files');
    for (const e of refused) expect(e.message).toMatch(/moved to .*maildrop\.corrupt/);
    const replies = (await mailLog(postroom, 'event=rejected')).map((e) => e.reply);
    expect(replies).toEqual(expect.arrayContaining(['message contains a NUL byte', 'header line 2 is longer than 998 characters', 'not a valid recipient address: "a<b"@example.com']));
    expect(withSubject(sink, 'nul in a drop')).toEqual([]);
    expect(withSubject(sink, 'long in a drop')).toEqual([]);
  });

  it('loses nothing and queues at most one message twice when killed (kill -9) in the middle of a pickup', { timeout: 90_000 }, async () => {
    await postroom.stop();
    const total = 150;
    for (let i = 0; i < total; i++) expect(sendmail(postroom, ['-f', 'cron@nas.example.com', 'bulk@example.com'], `Subject: pickup ${i}\n\nmessage ${i}\n`).code).toBe(0);
    await postroom.start();
    await postroom.until(async () => withSubjectPrefix(sink, 'pickup ').size >= 20 || undefined, 'a part of the pickup', 20_000);
    await postroom.stop('SIGKILL');
    await postroom.start();
    await postroom.until(async () => withSubjectPrefix(sink, 'pickup ').size === total || undefined, `all ${total} delivered`, 60_000);
    const received = (await mailLog(postroom, 'event=received&address=bulk@example.com')).filter((e) => e.subject?.startsWith('pickup '));
    const counts = new Map<string, number>();
    for (const e of received) counts.set(e.subject!, (counts.get(e.subject!) ?? 0) + 1);
    expect(counts.size).toBe(total);
    expect([...counts.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
  });

  it('holds mail for a local name while there is no admin address, shows a banner, and sends it once one is set', async () => {
    expect((await postroom.api('PUT', '/api/v1/settings', { adminAddress: '' })).status).toBe(200);
    expect(sendmail(postroom, ['root'], 'Subject: no admin yet\n\nmdadm: DegradedArray on /dev/md0\n').code).toBe(0);
    const held = await postroom.until(async () => (await queue(postroom, 'state=hold')).find((m) => m.to.includes('root')), 'the held message');
    expect(held.lastError).toMatch(/^waiting for an admin address: mail for root has nowhere to go/);
    const release = await postroom.api<{ message: string }>('POST', `/api/v1/queue/${held.id}/release`);
    expect(release.status).toBe(409);
    expect(release.body.message).toMatch(/waits for an admin address/);
    const web = await new WebSession(postroom).login();
    const home = await web.get('/');
    expect(home.text).toMatch(/1 message for root is waiting: <a href="\/settings#f-adminAddress">set an admin address<\/a>/);
    expect((await postroom.api('PUT', '/api/v1/settings', { adminAddress: 'late-admin@example.com' })).status).toBe(200);
    const [got] = await delivered(postroom, sink, 'no admin yet');
    expect(got!.to).toEqual(['late-admin@example.com']);
    expect((await web.get('/')).text).not.toContain('set an admin address</a>');
  });
});

function withSubjectPrefix(sink: SmtpSink, prefix: string): Set<string> {
  const out = new Set<string>();
  for (const m of sink.messages) {
    const s = /^Subject: (.*)$/m.exec(m.data.toString())?.[1]?.trim();
    if (s?.startsWith(prefix)) out.add(s);
  }
  return out;
}
