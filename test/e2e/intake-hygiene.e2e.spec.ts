import { beforeAll, describe, expect, it } from 'vitest';
import type { PostroomProcess } from '../helpers/postroom-process.js';
import { mailLog, queue } from './api.js';
import { relayingPostroom } from './relaying-postroom.js';

const hops = (n: number) => Array.from({ length: n }, (_, i) => `Received: from hop${i}.example by hop${i + 1}.example; Sun, 22 Nov 2026 03:15:19 +0000\r\n`).join('');

/**
 * What intake refuses in the message itself: NUL bytes and header lines over 998 characters
 * (554 5.6.0), and a message that has passed through more than 50 servers (554 5.4.6, Postfix's
 * hopcount_limit). 8-bit bytes stay accepted. Each refusal is a 'rejected' line with its reason.
 */
describe('intake hygiene: NUL, over-long header lines, mail loops', () => {
  const f = relayingPostroom();
  const { sink, open } = f;
  let postroom: PostroomProcess;
  beforeAll(() => (postroom = f.postroom));

  /** One transaction on a fresh session: the reply to the end of DATA. */
  const send = async (subject: string, message: string) => {
    const s = await open();
    expect((await s.read()).code).toBe(220);
    for (const c of ['EHLO client.nas.local', 'MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>']) expect((await s.command(c)).code).toBe(250);
    expect((await s.command('DATA')).code).toBe(354);
    const reply = await s.data(`From: cron@nas.local\r\nSubject: ${subject}\r\n${message}`);
    return { s, reply };
  };
  const rejected = () => mailLog(postroom, 'event=rejected');

  it('answers 554 5.6.0 to a NUL byte in the body, stores nothing, logs the rejection, and the session goes on', async () => {
    const { s, reply } = await send('nul in body', '\r\nbefore\0after\r\n');
    expect(reply.code).toBe(554);
    expect(reply.text).toBe('5.6.0 message contains a NUL byte');
    // The same session takes the next (clean) message.
    expect((await s.command('MAIL FROM:<cron@nas.local>')).code).toBe(250);
    expect((await s.command('RCPT TO:<ops@example.com>')).code).toBe(250);
    expect((await s.command('DATA')).code).toBe(354);
    expect((await s.data('From: cron@nas.local\r\nSubject: clean after nul\r\n\r\n8-bit is fine: caf\xe9\r\n')).code).toBe(250);
    await sink.waitFor(1);
    expect(sink.messages.map((m) => /Subject: (.*)\r/.exec(m.data.toString('latin1'))?.[1])).toEqual(['clean after nul']);

    const lines = await postroom.until(async () => ((await rejected()).length === 1 ? rejected() : undefined), 'the rejected line');
    expect(lines[0]).toMatchObject({ queueId: null, from: 'cron@nas.local', to: 'ops@example.com', reply: '554 5.6.0 message contains a NUL byte', detail: 'DATA', clientAddress: '127.0.0.1' });
  });

  it('answers 554 5.6.0 to a header line over 998 characters, and takes one of exactly 998', async () => {
    const long = (n: number) => `X-Long: ${'y'.repeat(n - 8)}\r\n`;
    const refused = await send('long header', `${long(999)}\r\nbody\r\n`);
    expect(refused.reply.code).toBe(554);
    expect(refused.reply.text).toBe('5.6.0 header line 3 is longer than 998 characters');
    expect((await send('header of 998', `${long(998)}\r\nbody\r\n`)).reply.code).toBe(250);
  });

  it('bounces a looping message (more than 50 Received headers) with 554 5.4.6, and takes one with 50', async () => {
    const looping = await open();
    expect((await looping.read()).code).toBe(220);
    for (const c of ['EHLO client.nas.local', 'MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>', 'DATA']) await looping.command(c);
    const reply = await looping.data(`${hops(51)}From: cron@nas.local\r\nSubject: looping\r\n\r\nround and round\r\n`);
    expect(reply.code).toBe(554);
    expect(reply.text).toBe('5.4.6 too many hops: 51 Received headers (at most 50), the message is looping');

    const fifty = await open();
    expect((await fifty.read()).code).toBe(220);
    for (const c of ['EHLO client.nas.local', 'MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>', 'DATA']) await fifty.command(c);
    expect((await fifty.data(`${hops(50)}From: cron@nas.local\r\nSubject: fifty hops\r\n\r\nstill fine\r\n`)).code).toBe(250);
  });

  it('answers the API 400 when its message would need a header line over 998 characters', async () => {
    const r = await postroom.api<{ message: string }>('POST', '/api/v1/messages', { from: 'alerts@nas.example.com', to: 'ops@example.com', subject: 'x'.repeat(998), text: 'x' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^Message refused: header line \d+ is longer than 998 characters/);
  });

  it('stored none of the refused messages, and counts them by reason in the metrics', async () => {
    const log = await postroom.until(async () => ((await rejected()).length === 4 ? rejected() : undefined), 'four rejected lines');
    // SMTP refusals with the reply as sent and the stage; the API's with its reason.
    expect(log.map((e) => [e.detail, e.reply!.replace(/header line \d+/, 'header line N')]).sort()).toEqual([
      ['DATA', '554 5.4.6 too many hops: 51 Received headers (at most 50), the message is looping'],
      ['DATA', '554 5.6.0 header line N is longer than 998 characters'],
      ['DATA', '554 5.6.0 message contains a NUL byte'],
      ['api', 'header line N is longer than 998 characters'],
    ]);
    const received = await mailLog(postroom, 'event=received');
    expect(received.map((e) => e.subject).sort()).toEqual(['clean after nul', 'fifty hops', 'header of 998']);
    await postroom.until(async () => (await queue(postroom)).length === 0, 'the queue to empty');

    const metrics = await (await fetch(`${postroom.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^postroom_messages_rejected_total\{reason="content"\} 3$/m);
    expect(metrics).toMatch(/^postroom_messages_rejected_total\{reason="loop"\} 1$/m);
  });
});
