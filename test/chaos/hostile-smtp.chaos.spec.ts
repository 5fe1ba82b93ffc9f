import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtp } from '../e2e/raw-smtp.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { Wire, chaosIdOf, chaosMessage, chaosSeed, prng, report, sleep, sql, until, useRelay } from './support.js';

const MAX_BYTES = 64 * 1024;
const MAX_RECIPIENTS = 5;
const PER_CLIENT = 10;

interface AttackResult {
  attack: string;
  attempts: number;
  /** Final 250 replies to DATA (messages the listener took). */
  acknowledged: number;
  /** Reply codes seen, by code. */
  codes: Record<number, number>;
  closedByServer: number;
}

/**
 * Hostile SMTP clients against the real listener, while a well-behaved client sends a message
 * on a fresh connection every 100 ms throughout. At the end: the well-behaved client was always
 * served, and the database holds exactly what was acknowledged with a 250.
 */
describe('hostile SMTP input', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });
  const seed = chaosSeed();
  const random = prng(seed);
  const results: AttackResult[] = [];
  /** Chaos ids of every message a hostile session got a 250 for (they must be delivered). */
  const hostileAcked: string[] = [];
  const good = { sent: 0, acked: [] as string[], failures: [] as string[], maxMs: 0, stop: false };
  let goodLoop: Promise<void>;
  const wires: Wire[] = [];

  const open = async (localAddress?: string) => {
    const w = await Wire.open(postroom.smtpPort, localAddress);
    wires.push(w);
    return w;
  };
  const greeted = async (localAddress?: string) => {
    const w = await open(localAddress);
    expect((await w.reply())?.code).toBe(220);
    expect((await w.cmd('EHLO hostile.example'))?.code).toBe(250);
    return w;
  };
  const received = async () => (await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM mail_log WHERE event = 'received'`))[0]!.n;
  /**
   * The database holds exactly what was acknowledged: everything acknowledged before the count,
   * plus at most the one well-behaved message between its commit and its 250 (it sends one at a time).
   */
  const expectStoredAsAcknowledged = async () => {
    const before = good.acked.length + hostileAcked.length;
    const stored = await received();
    const after = good.acked.length + hostileAcked.length;
    expect(stored).toBeGreaterThanOrEqual(before);
    expect(stored).toBeLessThanOrEqual(after + 1);
  };
  const tally = (r: AttackResult, code: number | undefined) => {
    r.attempts++;
    if (code === undefined) return;
    r.codes[code] = (r.codes[code] ?? 0) + 1;
  };
  const attack = (name: string): AttackResult => {
    const r = { attack: name, attempts: 0, acknowledged: 0, codes: {}, closedByServer: 0 };
    results.push(r);
    return r;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({
      databaseUrl: db.url,
      env: {
        LOG_LEVEL: 'warn',
        SMTP_MAX_MESSAGE_BYTES: String(MAX_BYTES),
        SMTP_MAX_RECIPIENTS: String(MAX_RECIPIENTS),
        SMTP_MAX_SESSIONS_PER_CLIENT: String(PER_CLIENT),
        // 127.0.0.3 plays the slowloris; 127.0.0.2 is outside.
        SMTP_ALLOWED_NETWORKS: '127.0.0.1/32,127.0.0.3/32',
      },
    }).start();
    await useRelay(postroom, { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', authEnabled: false });

    // The well-behaved client: one message per fresh connection, every 100 ms, all along.
    goodLoop = (async () => {
      for (let n = 0; !good.stop && n < 3000; n++) {
        const id = `good-${n}`;
        const t0 = Date.now();
        good.sent++;
        try {
          const smtp = await RawSmtp.connect(postroom.smtpPort);
          try {
            const steps = [await smtp.read(), await smtp.command('EHLO good.nas.local'), await smtp.command('MAIL FROM:<cron@nas.local>'), await smtp.command('RCPT TO:<ops@example.com>'), await smtp.command('DATA')];
            const codes = steps.map((s) => s.code).join(',');
            if (codes !== '220,250,250,250,354') throw new Error(`steps answered ${codes}`);
            const done = await smtp.data(chaosMessage(id), 10_000);
            if (done.code !== 250) throw new Error(`DATA answered ${done.code}`);
            good.acked.push(id);
            await smtp.command('QUIT').catch(() => undefined);
          } finally {
            smtp.close();
          }
        } catch (err) {
          good.failures.push(`${id}: ${String(err)}`);
        }
        good.maxMs = Math.max(good.maxMs, Date.now() - t0);
        await sleep(100);
      }
    })();
  });

  // Each attack's sessions end with it: they count against SMTP_MAX_SESSIONS_PER_CLIENT.
  afterEach(async () => {
    for (const w of wires.splice(0)) w.close();
    await sleep(100);
  });

  afterAll(async () => {
    good.stop = true;
    await goodLoop;
    for (const w of wires) w.close();
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('garbage and over-long command lines get 5xx or a closed door, never a 2xx', async () => {
    const r = attack('garbage and over-long command lines');
    let w = await greeted();
    for (let i = 0; i < 40; i++) {
      if (w.isClosed) {
        r.closedByServer++;
        w = await greeted();
      }
      // Random bytes without line ends, starting with a byte no command starts with.
      const len = 1 + Math.floor(random() * 300);
      const bytes = Buffer.alloc(len);
      for (let k = 0; k < len; k++) {
        let b = Math.floor(random() * 256);
        if (b === 0x0a || b === 0x0d) b = 0x20;
        bytes[k] = b;
      }
      bytes[0] = 0x01 + Math.floor(random() * 0x1f);
      if (bytes[0] === 0x0a || bytes[0] === 0x0d) bytes[0] = 0x01;
      w.write(Buffer.concat([bytes, Buffer.from('\r\n')]));
      const reply = await w.reply();
      tally(r, reply?.code);
      if (reply) expect(reply.code === 421 || reply.code >= 500).toBe(true);
    }
    // Longer than smtp-server's 16 KB command limit, with and without a line end.
    for (const line of [`MAIL FROM:<${'a'.repeat(20_000)}@example.com>\r\n`, 'EHLO ' + 'x'.repeat(1024 * 1024)]) {
      const long = await greeted();
      long.write(line);
      const reply = await long.reply(5000);
      tally(r, reply?.code);
      if (reply) expect(reply.code === 421 || reply.code >= 500).toBe(true);
      if (await long.closedWithin(5000)) r.closedByServer++;
      else expect((await long.cmd('NOOP'))?.code).toBe(250); // still a sane session
    }
    await expectStoredAsAcknowledged();
  });

  it('bare LF, NUL bytes and SMTP smuggling attempts: one message per end of DATA (CRLF.CRLF), bytes kept, NUL refused', async () => {
    const r = attack('bare LF, NUL, smuggling');
    // Commands ended by a bare LF are read as commands (smtp-server); the body keeps its bare LFs.
    const lf = await open();
    expect((await lf.reply())?.code).toBe(220);
    lf.write('EHLO bare.lf\nMAIL FROM:<cron@nas.local>\nRCPT TO:<ops@example.com>\nDATA\n');
    const lfReplies = await lf.replies(4);
    for (const x of lfReplies) tally(r, x.code);
    expect(lfReplies.map((x) => x.code)).toEqual([250, 250, 250, 354]);
    lf.write('From: cron@nas.local\nSubject: bare-lf\nX-Chaos-Id: hostile-bare-lf\n\nline one\nline two\r\n.\r\n');
    const lfDone = await lf.reply(10_000);
    tally(r, lfDone?.code);
    expect(lfDone?.code).toBe(250);
    hostileAcked.push('hostile-bare-lf');
    r.acknowledged++;

    // "<LF>.<CR><LF>" and "<CR><LF>.<LF>" inside the body do not end DATA: no second (smuggled) message.
    for (const [id, trick] of [
      ['hostile-smuggle-1', '\n.\r\n'],
      ['hostile-smuggle-2', '\r\n.\n'],
      ['hostile-smuggle-3', '\r.\r\n'],
    ] as const) {
      const s = await greeted();
      for (const c of ['MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>']) tally(r, (await s.cmd(c))?.code);
      expect((await s.cmd('DATA'))?.code).toBe(354);
      s.write(`From: cron@nas.local\r\nSubject: ${id}\r\nX-Chaos-Id: ${id}\r\n\r\nbefore${trick}MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nX-Chaos-Id: smuggled-${id}\r\n\r\nsmuggled\r\n.\r\n`);
      const reply = await s.reply(10_000);
      tally(r, reply?.code);
      expect(reply?.code).toBe(250);
      hostileAcked.push(id);
      r.acknowledged++;
      // Nothing else comes: the "smuggled" commands were body text, not commands.
      expect(await s.reply(500)).toBeUndefined();
    }

    // NUL bytes: refused in commands, and in a body (554 5.6.0: no character of mail, nothing stored).
    const nul = await greeted();
    for (const c of ['MAIL FROM:<cro\0n@nas.local>', 'RCPT TO:<ops@example.com>']) {
      const reply = await nul.cmd(c);
      tally(r, reply?.code);
      expect(reply!.code).toBeGreaterThanOrEqual(500);
    }
    expect((await nul.cmd('MAIL FROM:<cron@nas.local>'))?.code).toBe(250);
    const nulRcpt = await nul.cmd('RCPT TO:<o\0ps@example.com>');
    tally(r, nulRcpt?.code);
    expect(nulRcpt!.code).toBeGreaterThanOrEqual(500);
    expect((await nul.cmd('RCPT TO:<ops@example.com>'))?.code).toBe(250);
    expect((await nul.cmd('DATA'))?.code).toBe(354);
    nul.write('From: cron@nas.local\r\nSubject: nul\r\nX-Chaos-Id: hostile-nul\r\n\r\nbefore\0after\r\n.\r\n');
    const nulDone = await nul.reply(10_000);
    tally(r, nulDone?.code);
    expect(nulDone?.code).toBe(554);
    expect(nulDone?.text).toMatch(/^5\.6\.0 /);

    await until(() => ['hostile-bare-lf', 'hostile-smuggle-1', 'hostile-smuggle-2', 'hostile-smuggle-3'].every((id) => sink.messages.some((m) => chaosIdOf(m) === id)), 'the accepted ones at the sink', 20_000);
    const byId = (id: string) => sink.messages.find((m) => chaosIdOf(m) === id)!;
    expect(byId('hostile-bare-lf').data.toString('latin1')).toMatch(/line one\r?\nline two/);
    expect(sink.messages.filter((m) => chaosIdOf(m) === 'hostile-nul')).toEqual([]);
    expect(await sql(db.url, `SELECT reply FROM mail_log WHERE event = 'rejected' AND detail = 'DATA' AND reply = '554 5.6.0 message contains a NUL byte'`)).toHaveLength(1);
    expect(sink.messages.filter((m) => /smuggled-/.test(chaosIdOf(m) ?? '') || m.to.includes('victim@example.com'))).toEqual([]);
    expect(sink.messages.filter((m) => m.from === 'evil@example.com')).toEqual([]);
    await expectStoredAsAcknowledged();
  });

  it('keeps 8-bit header bytes (UTF-8 and Latin-1) as they came', async () => {
    const r = attack('8-bit headers');
    const s = await greeted();
    for (const c of ['MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>', 'DATA']) tally(r, (await s.cmd(c))?.code);
    const subject = Buffer.from('Subject: Grüße ✓ 8-bit\r\n', 'utf8');
    const latin1 = Buffer.from([...Buffer.from('X-Latin1: caf'), 0xe9, 0x0d, 0x0a]);
    s.write(Buffer.concat([Buffer.from('From: cron@nas.local\r\nX-Chaos-Id: hostile-8bit\r\n'), subject, latin1, Buffer.from('\r\nbody \xff\xfe\r\n.\r\n', 'latin1')]));
    const reply = await s.reply(10_000);
    tally(r, reply?.code);
    expect(reply?.code).toBe(250);
    hostileAcked.push('hostile-8bit');
    r.acknowledged++;
    const m = await until(() => sink.messages.find((x) => chaosIdOf(x) === 'hostile-8bit'), 'the 8-bit message at the sink', 20_000);
    expect(m.data.includes(subject)).toBe(true);
    expect(m.data.includes(latin1)).toBe(true);
    expect(m.data.includes(Buffer.from('body \xff\xfe', 'latin1'))).toBe(true);
    const logged = await sql<{ subject: string }>(db.url, `SELECT subject FROM mail_log WHERE event = 'received' AND queue_id = $1`, [/queued as ([0-9A-Z]{17})/.exec(reply!.text)![1]]);
    expect(logged[0]!.subject).toBe('Grüße ✓ 8-bit');
  });

  it('refuses invalid and over-long addresses (5xx, never 250) and recipients past the limit (452); the session goes on', async () => {
    const r = attack('invalid/over-long addresses, too many recipients');
    const bad = [
      // A bare name (no-at-sign) is a local one, taken as name@localhost (local-mail.ts): not here.
      '.no-at-sign',
      'a@nodot',
      'x@-bad.example.com',
      `${'a'.repeat(65)}@example.com`,
      `${'a'.repeat(60)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(63)}.com`,
      `${'a'.repeat(10_000)}@example.com`,
      '"unterminated@example.com',
      'a b@example.com',
      'a@b@example.com',
      'a@[300.1.1.1.1]',
      'a\x7f@example.com',
      'a@exa mple.com',
    ];
    const s = await greeted();
    for (const address of bad) {
      const mail = await s.cmd(`MAIL FROM:<${address}>`);
      tally(r, mail?.code);
      expect(mail!.code, `MAIL FROM:<${address.slice(0, 40)}>`).toBeGreaterThanOrEqual(500);
    }
    expect((await s.cmd('MAIL FROM:<cron@nas.local>'))?.code).toBe(250);
    for (const address of bad) {
      const rcpt = await s.cmd(`RCPT TO:<${address}>`);
      tally(r, rcpt?.code);
      expect(rcpt!.code, `RCPT TO:<${address.slice(0, 40)}>`).toBeGreaterThanOrEqual(500);
    }
    const codes: number[] = [];
    for (let i = 0; i < MAX_RECIPIENTS + 7; i++) {
      const rcpt = await s.cmd(`RCPT TO:<user${i}@example.com>`);
      tally(r, rcpt?.code);
      codes.push(rcpt!.code);
    }
    expect(codes).toEqual([...Array(MAX_RECIPIENTS).fill(250), ...Array(7).fill(452)]);
    expect((await s.cmd('DATA'))?.code).toBe(354);
    s.write(chaosMessage('hostile-many-rcpt') + '.\r\n');
    const done = await s.reply(10_000);
    tally(r, done?.code);
    expect(done?.code).toBe(250);
    hostileAcked.push('hostile-many-rcpt');
    r.acknowledged++;
    const m = await until(() => sink.messages.find((x) => chaosIdOf(x) === 'hostile-many-rcpt'), 'the message to the first five', 20_000);
    expect(m.to).toEqual(Array.from({ length: MAX_RECIPIENTS }, (_, i) => `user${i}@example.com`));
    await expectStoredAsAcknowledged();
  });

  it('survives pipelining floods: 5,000 NOOPs, 1,000 unfinished transactions and 50 pipelined messages in single writes', async () => {
    const r = attack('pipelining floods');
    const before = good.acked.length;
    const s = await greeted();
    s.write('NOOP\r\n'.repeat(5000));
    const noops = await s.replies(5000, 30_000);
    for (const x of noops) tally(r, x.code);
    expect(noops.length).toBe(5000);
    expect(noops.every((x) => x.code === 250)).toBe(true);

    s.write('MAIL FROM:<cron@nas.local>\r\nRCPT TO:<ops@example.com>\r\nRSET\r\n'.repeat(1000));
    const unfinished = await s.replies(3000, 30_000);
    for (const x of unfinished) tally(r, x.code);
    expect(unfinished.length).toBe(3000);
    expect(unfinished.every((x) => x.code === 250)).toBe(true);
    s.write('DATA\r\n'.repeat(200));
    const orphans = await s.replies(200, 10_000);
    for (const x of orphans) tally(r, x.code);
    expect(orphans.length).toBe(200);
    expect(orphans.every((x) => x.code === 503)).toBe(true);

    // Whole transactions, pipelined (body included): each stored exactly once.
    const p = await greeted();
    const ids = Array.from({ length: 50 }, (_, i) => `hostile-pipelined-${i}`);
    p.write(ids.map((id) => `MAIL FROM:<cron@nas.local>\r\nRCPT TO:<ops@example.com>\r\nDATA\r\n${chaosMessage(id)}.\r\n`).join(''));
    const replies = await p.replies(200, 30_000);
    for (const x of replies) tally(r, x.code);
    expect(replies.map((x) => x.code)).toEqual(ids.flatMap(() => [250, 250, 354, 250]));
    hostileAcked.push(...ids);
    r.acknowledged += ids.length;
    // The well-behaved client got through during the floods.
    await until(() => good.acked.length > before, 'a well-behaved message during the floods', 10_000);
    await expectStoredAsAcknowledged();
  });

  it('slowloris from one address: past SMTP_MAX_SESSIONS_PER_CLIENT it gets 421, the rest trickle, others are served; an abandoned DATA stores nothing', async () => {
    const r = attack('slowloris');
    const goodBefore = good.acked.length;
    const slow: Wire[] = [];
    for (let i = 0; i < PER_CLIENT + 15; i++) slow.push(await open('127.0.0.3'));
    const greetings = await Promise.all(slow.map((w) => w.reply(5000)));
    for (const g of greetings) tally(r, g?.code);
    expect(greetings.filter((g) => g?.code === 220).length).toBe(PER_CLIENT);
    expect(greetings.filter((g) => g?.code === 421).length).toBe(15);
    const open220 = slow.filter((_, i) => greetings[i]?.code === 220);
    // One byte every 200 ms for 4 s on every open session; one of them in the middle of DATA.
    const dataSession = open220[0]!;
    for (const c of ['EHLO slow.example', 'MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>', 'DATA']) tally(r, (await dataSession.cmd(c))?.code);
    const trickle = 'EHLO slowloris.example\r\n';
    const body = chaosMessage('hostile-slow-abandoned');
    for (let t = 0; t < 20; t++) {
      for (const w of open220.slice(1)) w.write(trickle[t % trickle.length]!);
      dataSession.write(body[t % body.length]!);
      await sleep(200);
    }
    // Well-behaved mail went through meanwhile.
    expect(good.acked.length).toBeGreaterThan(goodBefore);
    for (const w of slow) w.close(); // the DATA is abandoned: never acknowledged, so never stored
    await sleep(500);
    await expectStoredAsAcknowledged();
    expect(await sql(db.url, `SELECT id FROM mail_log WHERE subject = 'hostile-slow-abandoned'`)).toEqual([]);
  });

  it('answers 552 to oversized messages, announced or not, and stores nothing', async () => {
    const r = attack('oversized messages');
    const before = await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM mail_log WHERE event = 'rejected'`);
    const s = await greeted();
    const announced = await s.cmd(`MAIL FROM:<cron@nas.local> SIZE=${MAX_BYTES * 10}`);
    tally(r, announced?.code);
    expect(announced?.code).toBe(552);
    for (let i = 0; i < 3; i++) {
      for (const c of ['MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>']) expect((await s.cmd(c))?.code).toBe(250);
      expect((await s.cmd('DATA'))?.code).toBe(354);
      s.write(chaosMessage(`hostile-big-${i}`, 'ops@example.com', `${'y'.repeat(998)}\r\n`.repeat(Math.ceil((MAX_BYTES * (2 + i)) / 1000))) + '.\r\n');
      const reply = await s.reply(15_000);
      tally(r, reply?.code);
      expect(reply?.code).toBe(552);
      expect((await s.cmd('RSET'))?.code).toBe(250);
    }
    await until(async () => (await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM mail_log WHERE event = 'rejected'`))[0]!.n === before[0]!.n + 4, 'the four rejections in the mail log (SIZE at MAIL, three at DATA)', 10_000);
    expect(await sql(db.url, `SELECT id FROM mail_log WHERE event = 'received' AND subject LIKE 'hostile-big-%'`)).toEqual([]);
  });

  it('refuses clients outside the allowed networks (554, bound to 127.0.0.2) and stores nothing from them', async () => {
    const r = attack('outside the allowed networks');
    for (let i = 0; i < 5; i++) {
      const w = await open('127.0.0.2');
      const greeting = await w.reply();
      tally(r, greeting?.code);
      expect(greeting?.code).toBe(554);
      w.write(`EHLO outside.example\r\nMAIL FROM:<cron@nas.local>\r\nRCPT TO:<ops@example.com>\r\nDATA\r\n${chaosMessage(`hostile-outside-${i}`)}.\r\n`);
      let reply;
      while ((reply = await w.reply(1000))) {
        tally(r, reply.code);
        expect(reply.code).toBeGreaterThanOrEqual(500);
      }
      if (await w.closedWithin(3000)) r.closedByServer++;
      w.close();
    }
    // Only refusals from them: at connect, each in the mail log.
    expect(await sql(db.url, `SELECT id FROM mail_log WHERE subject LIKE 'hostile-outside-%' OR (client_address = '127.0.0.2' AND event <> 'rejected')`)).toEqual([]);
    await until(async () => (await sql(db.url, `SELECT id FROM mail_log WHERE client_address = '127.0.0.2' AND detail = 'connect'`)).length === 5, 'the five refusals at connect in the mail log', 10_000);
  });

  it('does not offer AUTH and refuses every AUTH attempt (brute force gets no 235 nor 334)', async () => {
    const r = attack('AUTH brute force');
    let sessions = 0;
    for (let i = 0; i < 60; ) {
      const w = await open();
      sessions++;
      expect((await w.reply())?.code).toBe(220);
      const ehlo = await w.cmd('EHLO brute.example');
      expect(ehlo?.code).toBe(250);
      expect(ehlo!.text).not.toMatch(/^AUTH/m);
      while (i < 60 && !w.isClosed) {
        const mech = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'][i % 4]!;
        const cred = Buffer.from(`\0admin\0guess${i}`).toString('base64');
        const reply = await w.cmd(mech === 'PLAIN' ? `AUTH PLAIN ${cred}` : `AUTH ${mech}`, 3000);
        i++;
        tally(r, reply?.code);
        if (!reply) break;
        expect([235, 334]).not.toContain(reply.code);
        expect(reply.code === 421 || reply.code >= 500).toBe(true);
      }
      if (w.isClosed) r.closedByServer++;
      w.close();
    }
    expect(sessions).toBeGreaterThanOrEqual(1);
  });

  it('served the well-behaved client all along and stored exactly what it acknowledged; all of it delivered', async () => {
    good.stop = true;
    await goodLoop;
    expect(good.failures).toEqual([]);
    expect(good.acked.length).toBeGreaterThan(20);
    const expected = [...good.acked, ...hostileAcked];
    expect(await received()).toBe(expected.length);
    await until(() => {
      const ids = new Set(sink.messages.map(chaosIdOf));
      return expected.every((id) => ids.has(id));
    }, 'every acknowledged message at the sink', 30_000);
    await until(async () => (await sql(db.url, `SELECT id FROM message`)).length === 0, 'the queue to be empty', 20_000);
    const ids = sink.messages.map(chaosIdOf);
    expect(ids.length).toBe(expected.length);
    expect(new Set(ids).size).toBe(expected.length);
    report('hostile-smtp', {
      seed,
      wellBehaved: { sent: good.sent, acknowledged: good.acked.length, failures: good.failures.length, slowestMs: good.maxMs },
      hostileAcknowledged: hostileAcked.length,
      stored: expected.length,
      delivered: new Set(ids).size,
      lost: 0,
      duplicated: ids.length - new Set(ids).size,
      attacks: results,
    });
  });
});
