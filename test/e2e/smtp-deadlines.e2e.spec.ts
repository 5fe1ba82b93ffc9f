import { beforeAll, describe, expect, it } from 'vitest';
import type { PostroomProcess } from '../helpers/postroom-process.js';
import { mailLog } from './api.js';
import type { RawSmtp, SmtpReply } from './raw-smtp.js';
import { relayingPostroom } from './relaying-postroom.js';

const SESSION_S = 3;
const DATA_S = 1;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client that trickles bytes cannot hold a session: the deadlines (short here) end it with 421,
 * while clients that talk at a normal pace in the same seconds are served.
 */
describe('SMTP deadlines: a session deadline and a minimum DATA rate', () => {
  const f = relayingPostroom({ env: { SMTP_SESSION_DEADLINE_SECONDS: String(SESSION_S), SMTP_DATA_DEADLINE_SECONDS: String(DATA_S) } });
  const { sink } = f;
  let postroom: PostroomProcess;
  beforeAll(() => (postroom = f.postroom));

  const open = async () => {
    const s = await f.open();
    expect((await s.read()).code).toBe(220);
    return s;
  };

  /** Writes `text` one byte every `everyMs` until the server answers or closes (bounded by the text). */
  const trickle = async (s: RawSmtp, text: string, everyMs: number): Promise<{ reply?: SmtpReply; ms: number; sent: number }> => {
    const t0 = Date.now();
    let sent = 0;
    let reply: SmtpReply | undefined;
    const answered = s.read(text.length * everyMs + 5_000).then(
      (r) => (reply = r),
      () => undefined,
    );
    for (; sent < text.length && !reply && !s.isClosed; sent++) {
      s.write(text[sent]!);
      await sleep(everyMs);
    }
    await answered;
    return { reply, ms: Date.now() - t0, sent };
  };

  it('cuts a DATA that trickles one byte every 300 ms with 421 long before its end, queues nothing, and serves normal clients meanwhile', async () => {
    const slow = await open();
    for (const c of ['EHLO slow.example', 'MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>']) expect((await slow.command(c)).code).toBe(250);
    expect((await slow.command('DATA')).code).toBe(354);
    const body = 'From: cron@nas.local\r\nSubject: trickled\r\n\r\nthis message would take eighteen seconds\r\n.\r\n';

    // Normal clients in the same seconds: a fresh session per message, and three messages in one session.
    const normal = (async () => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await open();
        for (const c of ['EHLO ok.example', 'MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>', 'DATA']) await s.command(c);
        ids.push((await s.data(`From: cron@nas.local\r\nSubject: normal ${i}\r\n\r\nfine\r\n`)).code);
        s.close();
        await sleep(150);
      }
      const s = await open();
      expect((await s.command('EHLO ok.example')).code).toBe(250);
      for (let i = 0; i < 3; i++) {
        for (const c of ['MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>', 'DATA']) await s.command(c);
        ids.push((await s.data(`From: cron@nas.local\r\nSubject: same session ${i}\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(1 + i * 1000))).code);
      }
      return ids;
    })();

    const cut = await trickle(slow, body, 300);
    expect(cut.reply?.code).toBe(421);
    expect(cut.reply?.text).toMatch(/^4\.4\.2 \S+ Error: timeout exceeded$/);
    expect(cut.ms).toBeLessThan(DATA_S * 1000 + 1_500);
    expect(cut.sent).toBeLessThan(body.length / 4);
    await postroom.until(async () => slow.isClosed, 'the server to close the trickling session', 10_000);

    expect(await normal).toEqual(Array(8).fill(250));
    const rejected = await postroom.until(async () => {
      const e = await mailLog(postroom, 'event=rejected');
      return e.length ? e : undefined;
    }, 'the rejected line');
    expect(rejected).toMatchObject([{ from: 'cron@nas.local', to: 'ops@example.com', detail: 'DATA', reply: '421 4.4.2 timeout exceeded: DATA slower than 500 bytes a second' }]);
    const received = await mailLog(postroom, 'event=received');
    expect(received.map((e) => e.subject)).not.toContain('trickled');
    expect(received).toHaveLength(8);
  });

  it('ends a session that trickles commands at the session deadline with 421', async () => {
    const slow = await open();
    const cut = await trickle(slow, 'EHLO a-very-slow-client.example\r\n', 300);
    expect(cut.reply?.code).toBe(421);
    expect(cut.reply?.text).toMatch(/timeout exceeded/);
    expect(cut.ms).toBeGreaterThan(SESSION_S * 1000 - 1_000);
    expect(cut.ms).toBeLessThan(SESSION_S * 1000 + 1_500);
    await postroom.until(async () => slow.isClosed, 'the server to close the session', 10_000);
  });

  it('ends an idle session at its deadline, and lets a session that is quick about it send until then', async () => {
    const s = await open();
    expect((await s.command('EHLO idle.example')).code).toBe(250);
    await sleep(SESSION_S * 500);
    for (const c of ['MAIL FROM:<cron@nas.local>', 'RCPT TO:<ops@example.com>', 'DATA']) await s.command(c);
    expect((await s.data('From: cron@nas.local\r\nSubject: before the deadline\r\n\r\nfine\r\n')).code).toBe(250);
    const last = await s.read(SESSION_S * 1000 + 2_000);
    expect(last.code).toBe(421);
    expect(last.text).toMatch(/timeout exceeded/);
  });
});
