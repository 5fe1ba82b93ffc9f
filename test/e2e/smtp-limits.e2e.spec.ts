import { beforeAll, describe, expect, it } from 'vitest';
import type { PostroomProcess } from '../helpers/postroom-process.js';
import { mailLog, queue, queueEntry } from './api.js';
import { relayingPostroom } from './relaying-postroom.js';

const MAX_BYTES = 2048;

/** The SMTP listener's limits, on a raw socket so every reply code is seen as sent. */
describe('SMTP listener limits: size, recipients, addresses, allowed networks', () => {
  const f = relayingPostroom({ env: { SMTP_MAX_MESSAGE_BYTES: String(MAX_BYTES), SMTP_MAX_RECIPIENTS: '2', SMTP_ALLOWED_NETWORKS: '127.0.0.1/32' } });
  const { sink, open } = f;
  let postroom: PostroomProcess;
  beforeAll(() => (postroom = f.postroom));
  const greeted = async () => {
    const s = await open();
    expect((await s.read()).code).toBe(220);
    expect((await s.command('EHLO client.nas.local')).code).toBe(250);
    return s;
  };
  const received = async () => (await mailLog(postroom, 'event=received')).length;

  it('answers 552 to a message over SMTP_MAX_MESSAGE_BYTES, stores nothing and logs the rejection', async () => {
    const s = await open();
    expect((await s.read()).code).toBe(220);
    const ehlo = await s.command('EHLO client.nas.local');
    expect(ehlo.code).toBe(250);
    expect(ehlo.text).toMatch(new RegExp(`^SIZE ${MAX_BYTES}$`, 'm'));

    // Announced too big: refused at MAIL FROM already.
    expect((await s.command(`MAIL FROM:<cron@nas.local> SIZE=${MAX_BYTES * 4}`)).code).toBe(552);

    // Not announced: refused at the end of DATA.
    expect((await s.command('MAIL FROM:<cron@nas.local>')).code).toBe(250);
    expect((await s.command('RCPT TO:<ops@example.com>')).code).toBe(250);
    expect((await s.command('DATA')).code).toBe(354);
    const body = `From: cron@nas.local\r\nTo: ops@example.com\r\nSubject: huge log\r\n\r\n${'x'.repeat(70).concat('\r\n').repeat(60)}`;
    expect(body.length).toBeGreaterThan(MAX_BYTES);
    const reply = await s.data(body);
    expect(reply.code).toBe(552);
    expect(reply.text).toMatch(/5\.3\.4 .*limit of 2048 bytes/);
    // The session goes on.
    expect((await s.command('RSET')).code).toBe(250);
    expect((await s.command('QUIT')).code).toBe(221);

    // Both refusals are in the mail log, each with its stage and the reply as sent (newest first).
    const rejected = await postroom.until(async () => {
      const e = await mailLog(postroom, 'event=rejected');
      return e.length >= 2 ? e : undefined;
    }, 'the rejected entries');
    expect(rejected).toHaveLength(2);
    expect(rejected[1]).toMatchObject({ queueId: null, detail: 'MAIL', from: 'cron@nas.local', to: '', clientAddress: '127.0.0.1' });
    expect(rejected[1]!.reply).toBe('552 Error: message exceeds fixed maximum message size 2048');
    expect(rejected[0]).toMatchObject({ queueId: null, detail: 'DATA', from: 'cron@nas.local', to: 'ops@example.com', clientAddress: '127.0.0.1' });
    expect(rejected[0]!.reply).toMatch(/^552 5\.3\.4 Message size exceeds the limit of 2048 bytes$/);
    expect(await received()).toBe(0);
    expect(await queue(postroom)).toEqual([]);
  });

  it('answers 553 to an invalid recipient address and 452 to the recipient after SMTP_MAX_RECIPIENTS', async () => {
    const s = await greeted();
    expect((await s.command('MAIL FROM:<cron@nas.local>')).code).toBe(250);
    // Not an address at all: smtp-server's own syntax check (501). (A bare name is a local one: see sendmail.e2e.)
    expect((await s.command('RCPT TO:<ops@@example.com>')).code).toBe(501);
    // Well-formed to smtp-server, not a mailbox to Postroom: 553.
    const invalid = await s.command('RCPT TO:<ops@-bad.example.com>');
    expect(invalid.code).toBe(553);
    expect(invalid.text).toMatch(/5\.1\.3 <ops@-bad\.example\.com> is not a valid recipient address/);
    expect((await s.command('RCPT TO:<ops@nodot>')).code).toBe(553);
    expect((await s.command('RCPT TO:<first@example.com>')).code).toBe(250);
    expect((await s.command('RCPT TO:<second@example.com>')).code).toBe(250);
    const third = await s.command('RCPT TO:<third@example.com>');
    expect(third.code).toBe(452);
    expect(third.text).toMatch(/4\.5\.3 Too many recipients \(at most 2/);

    // The accepted two still get the message (the client sends the rest in another transaction).
    expect((await s.command('DATA')).code).toBe(354);
    const done = await s.data('From: cron@nas.local\r\nSubject: for two\r\n\r\nhello\r\n');
    expect(done.code).toBe(250);
    const id = /queued as ([0-9A-Z]{17})/.exec(done.text)![1]!;
    expect((await s.command('QUIT')).code).toBe(221);

    await sink.waitFor(1);
    expect(sink.messages[0]!.to).toEqual(['first@example.com', 'second@example.com']);
    expect(sink.messages[0]!.data.toString()).toContain(id);
    await postroom.until(async () => (await queueEntry(postroom, id)) === undefined, 'the message to leave the queue');
    const log = await mailLog(postroom, `queueId=${id}`);
    expect(log.filter((e) => e.event === 'sent').map((e) => e.to).sort()).toEqual(['first@example.com', 'second@example.com']);

    // Each refused RCPT is in the mail log: the stage, the reply as sent, the address it named.
    const refused = (await mailLog(postroom, 'event=rejected')).filter((e) => e.detail === 'RCPT').reverse();
    expect(refused.map((e) => [e.to, e.reply?.slice(0, 3)])).toEqual([
      ['ops@@example.com', '501'],
      ['ops@-bad.example.com', '553'],
      ['ops@nodot', '553'],
      ['third@example.com', '452'],
    ]);
    expect(refused.every((e) => e.from === 'cron@nas.local' && e.clientAddress === '127.0.0.1' && e.queueId === null)).toBe(true);
    expect(refused[3]!.reply).toMatch(/^452 4\.5\.3 Too many recipients/);
  });

  it('refuses a sender or recipient no transport could send (a quoted < or >) with a 5xx reason, and takes an address literal', async () => {
    const s = await greeted();
    for (const address of ['"a<b"@example.com', '"a>b"@example.com']) {
      const mail = await s.command(`MAIL FROM:<${address}>`);
      expect(mail.code, address).toBeGreaterThanOrEqual(500);
      expect(mail.text).toMatch(/not a valid sender address|syntax/);
    }
    expect((await s.command('MAIL FROM:<cron@nas.local>')).code).toBe(250);
    for (const address of ['"a<b"@example.com', '"x>y"@example.com']) {
      const rcpt = await s.command(`RCPT TO:<${address}>`);
      expect(rcpt.code, address).toBeGreaterThanOrEqual(500);
      expect(rcpt.text).toMatch(/not a valid recipient address|syntax/);
    }
    expect((await s.command('RCPT TO:<ops@[192.0.2.1]>')).code).toBe(250);
    expect((await s.command('RCPT TO:<ops@[300.0.2.1]>')).code).toBeGreaterThanOrEqual(500);
    expect((await s.command('RSET')).code).toBe(250);
    expect((await s.command('QUIT')).code).toBe(221);
  });

  it('refuses a client outside SMTP_ALLOWED_NETWORKS with a 554 greeting and stores nothing', async () => {
    const before = { received: await received(), sunk: sink.messages.length };
    const s = await open('127.0.0.2');
    const greeting = await s.read();
    expect(greeting.code).toBe(554);
    expect(greeting.text).toMatch(/5\.7\.1 127\.0\.0\.2 is not allowed/);
    // Whatever it tries next goes nowhere.
    await postroom.until(async () => {
      if (s.isClosed) return true;
      try {
        const r = await s.command('MAIL FROM:<cron@nas.local>', 1000);
        return r.code >= 500;
      } catch {
        return true;
      }
    }, 'the refused session to end or refuse commands', 5_000);
    s.close();

    // From the allowed address the listener still works.
    const ok = await greeted();
    expect((await ok.command('QUIT')).code).toBe(221);

    expect(await received()).toBe(before.received);
    // One line for the refused client: the refusal at connect, with its address. (Counted by
    // address: the previous test's refusals may still be on their way to the mail log.)
    const refused = await postroom.until(async () => {
      const e = (await mailLog(postroom, '')).filter((l) => l.clientAddress === '127.0.0.2');
      return e.length ? e : undefined;
    }, 'the refusal at connect');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ event: 'rejected', detail: 'connect', clientAddress: '127.0.0.2', queueId: null });
    expect(refused[0]!.reply).toMatch(/^554 5\.7\.1 127\.0\.0\.2 is not allowed/);
    expect(await queue(postroom)).toEqual([]);
    expect(sink.messages.length).toBe(before.sunk);
  });

  it("counts every refusal at intake in the report's rejected, grouped by the reply", async () => {
    const lines = await mailLog(postroom, 'event=rejected');
    expect(new Set(lines.map((e) => e.detail))).toEqual(new Set(['connect', 'MAIL', 'RCPT', 'DATA']));
    const { status, body } = await postroom.api<{ totals: { rejected: number; received: number }; problems: { rejected: { reason: string; count: number }[] } }>('GET', '/api/v1/reports/today');
    expect(status).toBe(200);
    expect(body.totals.rejected).toBe(lines.length);
    expect(body.problems.rejected.reduce((n, p) => n + p.count, 0)).toBe(lines.length);
    expect(body.problems.rejected.map((p) => p.reason)).toContain('452 4.5.3 Too many recipients (at most 2 per message)');
  });
});
